import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { connectPostgres } from '../../src/platform/db/client.js';
import { testConfig } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { settlesWithin } from '../helpers/settles.js';

// Graceful shutdown as server.ts wires it (app.close() on a signal, the pool ended in an onClose
// hook): the request in flight finishes, new requests are turned away, and only then does the pool end.

const BATCH = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

t.test('app.close() finishes the request in flight, refuses new ones, then ends the pool', async (t) => {
  const db = await createTestDatabase();
  // On a server the app gets a pool of its own, as in production, so its end is observable.
  const database = db.url ? connectPostgres({ url: db.url, poolMax: 5, statementTimeoutMs: 10_000 }) : db.database;
  const events: string[] = [];
  t.teardown(async () => {
    if (db.url || !events.includes('pool ended')) await db.close();
  });

  const app = await buildApp({ config: testConfig(), database, startWorkers: true });
  app.addHook('onClose', async () => {
    await database.close(); // what server.ts registers
    events.push('pool ended');
  });

  // Test-only gate: the batch request waits inside the app (authenticated, validated, before the
  // handler touches the database) until the close has begun, so it is certainly in flight then.
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.url !== '/v1/companies/batch') return;
    entered();
    await gate;
  });
  app.addHook('onResponse', async (request) => {
    if (request.routeOptions.url === '/v1/companies/batch') events.push('in-flight answered');
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const authorization = `Bearer ${app.jwt.sign({ sub: randomUUID(), role: 'admin', teamIds: [] })}`;

  const tag = randomUUID();
  const inFlight = fetch(`${base}/v1/companies/batch`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ operation: 'create', records: Array.from({ length: BATCH }, (_, i) => ({ name: `Shutdown ${tag} ${i}` })) }),
    signal: AbortSignal.timeout(30_000),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as { results?: { status: string; id: string | null }[] } }));
  await inside;

  const closing = app.close().then(() => events.push('app closed'));
  await waitFor('the listener to close', 5_000, () => !app.server.listening);

  const late = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) }).then(
    (res) => ({ status: res.status, error: undefined }),
    (e: Error) => ({ status: 0, error: (e.cause as { code?: string } | undefined)?.code ?? String(e) }),
  );
  t.ok(late.status === 503 || late.error === 'ECONNREFUSED', `a request after close began is turned away (${late.status || late.error})`);
  t.same(events, [], 'the pool is still open while a request is in flight');

  openGate();
  const answered = await inFlight;
  t.equal(answered.status, 200, 'the in-flight batch completes with 200');
  t.equal(answered.body.results?.length, BATCH, 'with a result per record');
  t.ok(answered.body.results?.every((r) => r.status === 'created' && r.id), 'every record created');

  const closed = await settlesWithin(closing, 15_000);
  t.ok(closed, 'app.close() resolves');
  t.same(events, ['in-flight answered', 'pool ended', 'app closed'], 'the pool ends only after the in-flight request was answered');
  if (database.kind === 'postgres') t.equal(database.stats().total, 0, 'no connection left in the pool');
});
