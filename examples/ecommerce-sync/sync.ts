import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createCrmClient, unwrap } from '../../clients/typescript/src/index.js';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type StoreExport, toContact, toOrder } from './mapping.js';

// Syncs a store export into the CRM: customers first (upserted by the store's customer id), then
// their orders (upserted by the store's order id), through the batch endpoints. Resumable: progress
// is checkpointed after each batch, and a rerun carries on from there.
//
//   CRM_URL=http://localhost:3000 CRM_TOKEN=crm_… npx tsx examples/ecommerce-sync/sync.ts \
//     [--file store-export.json] [--checkpoint .sync-checkpoint.json] [--batch-size 100] [--delay-ms 0]

const { values: args } = parseArgs({
  options: {
    file: { type: 'string', default: new URL('store-export.json', import.meta.url).pathname },
    checkpoint: { type: 'string', default: '.sync-checkpoint.json' },
    'batch-size': { type: 'string', default: '100' },
    // a pause between batches, to stay well inside the CRM's rate limit on a large export
    'delay-ms': { type: 'string', default: '0' },
  },
});
const batchSize = Number(args['batch-size']);
const delayMs = Number(args['delay-ms']);
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new Error('--batch-size must be 1 to 1000 (the batch endpoints take at most 1000)');
const baseUrl = process.env.CRM_URL ?? 'http://localhost:3000';
const token = process.env.CRM_TOKEN;
if (!token) throw new Error('set CRM_TOKEN to an API key or access token that may write contacts and orders');

const text = readFileSync(args.file, 'utf8');
const source = createHash('sha256').update(text).digest('hex').slice(0, 16);
const store = JSON.parse(text) as StoreExport;
const crm = createCrmClient({ baseUrl, token });
const state: Checkpoint = loadCheckpoint(args.checkpoint, source);
let refused = 0;

/**
 * The key names the batch, not the attempt: if this process dies after sending a batch and a rerun
 * sends it again within 24 h, the CRM replays its first answer instead of doing the work twice.
 */
const keyOf = (kind: string, start: number) => `ecommerce-sync:${source}:${kind}:${start}:${batchSize}`;
const pause = () => (delayMs > 0 ? new Promise((r) => setTimeout(r, delayMs)) : undefined);

function reportErrors(kind: string, ids: string[], results: { index: number; status: string; error?: { detail?: string } | null }[]): void {
  for (const r of results) {
    if (r.status !== 'error') continue;
    refused++;
    console.error(`${kind} ${ids[r.index]} refused: ${r.error?.detail ?? 'error'}`);
  }
}

for (let start = state.customersDone; start < store.customers.length; start += batchSize) {
  const slice = store.customers.slice(start, start + batchSize);
  const { results } = await unwrap(crm.POST('/v1/contacts/batch', {
    body: { operation: 'upsert', idProperty: 'externalId.shop', records: slice.map((c) => toContact(c, store.shop)) },
    headers: { 'Idempotency-Key': keyOf('customers', start) },
  }));
  results.forEach((r) => {
    if (r.id) state.contactIds[slice[r.index]!.id] = r.id;
  });
  reportErrors('customer', slice.map((c) => c.id), results);
  state.customersDone = start + slice.length;
  saveCheckpoint(args.checkpoint, state);
  console.log(`customers ${state.customersDone}/${store.customers.length}`);
  await pause();
}

for (let start = state.ordersDone; start < store.orders.length; start += batchSize) {
  const slice = store.orders.slice(start, start + batchSize);
  // an order whose customer the CRM refused cannot be linked: reported, not sent
  const linked = slice.filter((o) => state.contactIds[o.customer_id]);
  for (const o of slice) if (!state.contactIds[o.customer_id]) {
    refused++;
    console.error(`order ${o.id} skipped: customer ${o.customer_id} is not in the CRM`);
  }
  if (linked.length) {
    const { results } = await unwrap(crm.POST('/v1/orders/batch', {
      body: { operation: 'upsert', idProperty: 'externalId', records: linked.map((o) => toOrder(o, state.contactIds[o.customer_id]!)) },
      headers: { 'Idempotency-Key': keyOf('orders', start) },
    }));
    reportErrors('order', linked.map((o) => o.id), results);
  }
  state.ordersDone = start + slice.length;
  saveCheckpoint(args.checkpoint, state);
  console.log(`orders ${state.ordersDone}/${store.orders.length}`);
  await pause();
}

console.log(`synced ${store.customers.length} customers and ${store.orders.length} orders of ${store.shop}${refused ? `; ${refused} refused` : ''}`);
if (refused) process.exitCode = 2;
