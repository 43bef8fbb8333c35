import { createHmac, randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import {
  DISABLE_AFTER_MS, RETRY_WINDOW_MS, backoffMs, deliverDueWebhooks, fanOutWebhooks,
} from '../../src/modules/integration/delivery.service.js';
import { claimDue } from '../../src/modules/integration/delivery.repository.js';
import { verifySignature } from '../../src/modules/integration/signature.js';

// Webhook delivery end to end, against real HTTP receivers on 127.0.0.1 (so private networks are
// allowed in this file). The background steps are driven directly (workers are off in tests), with
// an injected clock to walk through days of backoff without waiting.

const h = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;

interface Received { headers: IncomingHttpHeaders; body: string; json: any }
type Answer = number | { status: number; headers?: Record<string, string> } | 'hang';

/** A webhook receiver: answers each request with `answer(n)` (n from 1) and keeps what it got. */
async function receiver(answer: (n: number, r: Received) => Answer = () => 200) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r = { headers: req.headers, body, json: JSON.parse(body) };
      got.push(r);
      const a = answer(got.length, r);
      if (a === 'hang') return;
      const { status, headers } = typeof a === 'number' ? { status: a, headers: {} } : a;
      res.writeHead(status, headers).end(status >= 400 ? 'receiver says no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    got,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const opts = (o: { now?: Date; timeoutMs?: number; allowPrivateNetworks?: boolean } = {}) => ({
  allowPrivateNetworks: o.allowPrivateNetworks ?? true,
  random: () => 0.5, // no jitter: backoff is exactly 30 s × 2^(n-1)
  ...(o.now ? { now: () => o.now as Date } : {}),
  ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
});
const step = async (o: Parameters<typeof opts>[0] = {}) => {
  await fanOutWebhooks(db);
  return deliverDueWebhooks(db, opts(o));
};

async function webhook(url: string, body: Record<string, unknown> = {}) {
  const res = await h.request({ method: 'POST', url: '/v1/webhooks', headers: admin.auth, payload: { url, events: ['contact.*'], ...body } });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json();
}
const remove = (id: string) => h.request({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: admin.auth });
const getHook = async (id: string) => (await h.request({ method: 'GET', url: `/v1/webhooks/${id}`, headers: admin.auth })).json();
async function deliveries(id: string, query = '') {
  const res = await h.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries${query}`, headers: admin.auth });
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json().data as any[];
}
async function contact(firstName = 'Hook') {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName } });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json();
}

t.test('a created contact is delivered once, signed, with the event id; the body is the feed item', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  const c = await contact('Delivered');
  t.equal(await step(), 1, 'one delivery attempted');
  t.equal(rx.got.length, 1);
  const [req] = rx.got as [Received];
  t.equal(req.headers['content-type'], 'application/json');
  t.match(req.headers['user-agent'], /headless-crm/);
  t.match(req.json, { type: 'contact.created', entityType: 'contact', entityId: c.id, data: { before: null, after: { id: c.id, firstName: 'Delivered' } } });
  t.equal(req.headers['x-crm-event-id'], req.json.id, 'X-CRM-Event-Id is the event id');
  const feedItem = (await h.request({ method: 'GET', url: `/v1/events?entityId=${c.id}`, headers: admin.auth })).json().data[0];
  t.same(req.json, feedItem, 'the same shape and content as the feed');

  // the documented recipe: hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret's UTF-8 bytes
  const sig = req.headers['x-crm-signature'] as string;
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
  t.ok(m, sig);
  const ts = Number(m?.[1]);
  t.ok(Math.abs(ts - Date.now() / 1000) < 60, 't is the unix time of sending');
  t.equal(m?.[2], createHmac('sha256', Buffer.from(hook.secret, 'utf8')).update(`${ts}.${req.body}`).digest('hex'));
  t.ok(verifySignature(sig, hook.secret, req.body));
  t.notOk(verifySignature(sig, hook.secret, req.body.replace('Delivered', 'Tampered')), 'a changed body fails');
  t.notOk(verifySignature(sig, 'whsec_not-the-secret', req.body));

  t.equal(await step(), 0, 'nothing more to do');
  t.equal(rx.got.length, 1, 'delivered once');
  const [d] = await deliveries(hook.id);
  t.match(d, { webhookId: hook.id, eventId: req.json.id, eventType: 'contact.created', status: 'succeeded', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
  t.ok(d.deliveredAt);
  await remove(hook.id);
});

t.test('500 then 200: retried within 60 s with the same event id, then succeeded', async (t) => {
  const rx = await receiver((n) => (n === 1 ? 500 : 200));
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  await contact('Retry');
  await step();
  let [d] = await deliveries(hook.id);
  t.match(d, { status: 'failed', attempts: 1, lastStatusCode: 500, lastError: /HTTP 500: receiver says no/ });
  const wait = Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt);
  t.ok(wait > 0 && wait <= 60_000, `first retry within 60 s (${wait} ms)`);
  t.ok((await getHook(hook.id)).failingSince, 'the webhook is failing');

  t.equal(await step(), 0, 'not due yet');
  await step({ now: new Date(Date.parse(d.nextAttemptAt) + 1) });
  [d] = await deliveries(hook.id);
  t.match(d, { status: 'succeeded', attempts: 2, lastStatusCode: 200, lastError: null });
  t.equal(rx.got.length, 2);
  t.equal(rx.got[0]?.headers['x-crm-event-id'], rx.got[1]?.headers['x-crm-event-id'], 'the same X-CRM-Event-Id on the retry');
  t.equal(rx.got[0]?.body, rx.got[1]?.body, 'the same body');
  t.equal((await getHook(hook.id)).failingSince, null, 'a success clears failingSince');
  await remove(hook.id);
});

t.test('429 with Retry-After is honoured; a redirect is not followed; a hung receiver times out', async (t) => {
  const rx = await receiver((n): Answer => (n === 1 ? { status: 429, headers: { 'retry-after': '600' } } : { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }));
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  await contact('Busy');
  await step();
  let [d] = await deliveries(hook.id);
  t.equal(d.lastStatusCode, 429);
  t.ok(Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt) >= 600_000, 'waits as long as the receiver asked');
  await step({ now: new Date(Date.parse(d.nextAttemptAt) + 1) });
  [d] = await deliveries(hook.id);
  t.match(d, { status: 'failed', lastStatusCode: 302, lastError: /redirects are not followed/ });
  t.equal(rx.got.length, 2, 'the redirect target was not requested');
  t.equal(rx.got[0]?.headers['x-crm-event-id'], rx.got[1]?.headers['x-crm-event-id'], 'the same X-CRM-Event-Id after the 429');
  await remove(hook.id);

  const slow = await receiver(() => 'hang');
  t.teardown(slow.close);
  const hung = await webhook(slow.url);
  await contact('Hang');
  const started = Date.now();
  await step({ timeoutMs: 300 });
  t.ok(Date.now() - started < 5000, 'the attempt gave up at the (injected) timeout');
  const [hd] = await deliveries(hung.id);
  t.match(hd, { status: 'failed', attempts: 1, lastStatusCode: null, lastError: /no answer within 300 ms/ });
  await remove(hung.id);
});

t.test('a webhook failing for a day is disabled; its delivery keeps retrying for 3 days, then dies', async (t) => {
  const rx = await receiver(() => 503);
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  await contact('Doomed');
  await fanOutWebhooks(db);
  const start = Date.parse((await deliveries(hook.id))[0].createdAt);
  let now = new Date(start);
  const waits: number[] = [];
  let disabledAt: number | null = null;
  while (disabledAt === null && waits.length < 60) {
    await deliverDueWebhooks(db, opts({ now }));
    const [d] = await deliveries(hook.id);
    if (!(await getHook(hook.id)).enabled) disabledAt = now.getTime();
    waits.push(Date.parse(d.nextAttemptAt) - now.getTime());
    now = new Date(d.nextAttemptAt);
  }
  t.equal(DISABLE_AFTER_MS, 86_400_000, 'a day');
  t.ok(disabledAt !== null && disabledAt - start >= DISABLE_AFTER_MS && disabledAt - start < DISABLE_AFTER_MS + 6 * 3600_000,
    `disabled at the first failure a day after the streak began (${((disabledAt ?? 0) - start) / 3600_000} h)`);
  t.same(waits.slice(0, 5), [30_000, 60_000, 120_000, 240_000, 480_000], 'exponential from 30 s');
  t.same(waits.slice(0, 5), [1, 2, 3, 4, 5].map((n) => backoffMs(n, () => 0.5)));
  t.ok(waits.every((w) => w <= 6 * 3600_000), 'capped at 6 h');
  t.match((await deliveries(hook.id))[0], { status: 'failed' }, 'the delivery itself is not dead yet');

  const disabledHook = await getHook(hook.id);
  t.match(disabledHook, { enabled: false, disabledReason: /failing since .*HTTP 503/ });
  const disabled = (await h.request({ method: 'GET', url: `/v1/events?entityId=${hook.id}&types=webhook.disabled`, headers: admin.auth })).json().data;
  t.equal(disabled.length, 1, 'webhook.disabled is in the feed');
  t.match(disabled[0], { actor: { type: 'system' }, data: { after: { enabled: false } } });

  const n = rx.got.length;
  await contact('After disable');
  await step({ now: new Date(start + 5 * RETRY_WINDOW_MS) });
  t.equal(rx.got.length, n, 'a disabled webhook gets nothing');
  t.equal((await deliveries(hook.id)).length, 1, 'and no deliveries are queued for it');

  const on = await h.request({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin.auth, payload: { enabled: true } });
  t.match(on.json(), { enabled: true, disabledReason: null, failingSince: null }, 'enabling clears the reason and the streak');

  // enabled again (as often as it takes), the delivery resumes within its own 3-day window and then dies
  let reenabled = 1;
  for (let i = 0; i < 60; i++) {
    await deliverDueWebhooks(db, opts({ now }));
    const [d] = await deliveries(hook.id);
    if (d.status === 'dead') break;
    if (!(await getHook(hook.id)).enabled) {
      await h.request({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin.auth, payload: { enabled: true } });
      reenabled++;
    }
    now = new Date(d.nextAttemptAt);
  }
  const [d] = await deliveries(hook.id);
  t.equal(d.status, 'dead', 'dead-lettered');
  t.equal(d.nextAttemptAt, null);
  t.equal(Date.parse(d.lastAttemptAt), start + RETRY_WINDOW_MS, 'the last attempt falls on the 3-day deadline');
  t.ok(reenabled >= 2, `disabled again after each further day of failures (${reenabled} times enabled)`);
  t.equal(d.attempts, rx.got.length, 'every attempt reached the receiver');
  t.equal(new Set(rx.got.map((r) => r.headers['x-crm-event-id'])).size, 1, 'one event id throughout');
  await remove(hook.id);
});

t.test('pending deliveries wait while their webhook is disabled', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  await contact('Paused');
  await fanOutWebhooks(db);
  await h.request({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin.auth, payload: { enabled: false } });
  t.equal(await step(), 0);
  t.equal(rx.got.length, 0, 'no delivery after disable');
  await h.request({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin.auth, payload: { enabled: true } });
  await step();
  t.equal(rx.got.length, 1, 'delivered once enabled again');
  await remove(hook.id);
});

t.test('redeliver: a new attempt now with the same event id (REST and GraphQL)', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  await contact('Again');
  await step();
  const [d] = await deliveries(hook.id);
  const res = await h.request({ method: 'POST', url: `/v1/webhooks/${hook.id}/deliveries/${d.id}/redeliver`, headers: admin.auth });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { id: d.id, eventId: d.eventId, status: 'succeeded', attempts: 1 });
  t.equal(rx.got.length, 2);
  t.equal(rx.got[1]?.headers['x-crm-event-id'], d.eventId, 'same event id');

  const g = await h.gql(admin, 'mutation($w: ID!, $d: ID!) { redeliverWebhookDelivery(webhookId: $w, deliveryId: $d) { id eventId status attempts } }', { w: hook.id, d: d.id });
  t.same(g.body.data?.redeliverWebhookDelivery, { id: d.id, eventId: d.eventId, status: 'succeeded', attempts: 1 });
  t.equal(rx.got.length, 3);
  const sales = h.user('sales');
  t.equal((await h.request({ method: 'POST', url: `/v1/webhooks/${hook.id}/deliveries/${d.id}/redeliver`, headers: sales.auth })).statusCode, 403);
  t.equal(rx.got.length, 3, 'a refused redeliver sends nothing');
  await remove(hook.id);
});

t.test('per webhook, an update is never delivered before the create of the same record', async (t) => {
  const rx = await receiver((n) => (n === 1 ? 500 : 200));
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  const c = await contact('Ordered');
  await h.request({ method: 'PATCH', url: `/v1/contacts/${c.id}`, headers: admin.auth, payload: { lastName: 'Second' } });
  await step();
  t.same(rx.got.map((r) => r.json.type), ['contact.created'], 'the update waits for the failed create');
  const created = (await deliveries(hook.id, '?filter[eventType][eq]=contact.created'))[0];
  const later = new Date(Date.parse(created.nextAttemptAt) + 1);
  await deliverDueWebhooks(db, opts({ now: later }));
  await deliverDueWebhooks(db, opts({ now: later }));
  t.same(rx.got.map((r) => r.json.type), ['contact.created', 'contact.created', 'contact.updated']);
  await remove(hook.id);
});

t.test('type patterns choose what a webhook gets', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const updates = await webhook(rx.url, { events: ['contact.updated'] });
  const companies = await webhook(rx.url, { events: ['company.*'] });
  const c = await contact('Typed');
  await h.request({ method: 'PATCH', url: `/v1/contacts/${c.id}`, headers: admin.auth, payload: { lastName: 'T' } });
  await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: `Typed ${randomUUID().slice(0, 6)}` } });
  await step();
  t.same((await deliveries(updates.id)).map((d) => d.eventType), ['contact.updated']);
  t.same((await deliveries(companies.id)).map((d) => d.eventType), ['company.created']);
  t.same(rx.got.map((r) => r.json.type).sort(), ['company.created', 'contact.updated']);
  await remove(updates.id);
  await remove(companies.id);
});

t.test('several workers share the work without delivering anything twice', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  for (let i = 0; i < 8; i++) await contact(`Shared ${i}`);
  // two fan-out passes at once: one holds the cursor, the other steps aside; what a pass leaves
  // (events numbered while the cursor was held) the next pass takes, as the worker does every second
  await Promise.all([fanOutWebhooks(db), fanOutWebhooks(db)]);
  await fanOutWebhooks(db);
  const o = { ...opts(), batch: 3 };
  for (let i = 0; i < 5; i++) await Promise.all([deliverDueWebhooks(db, o), deliverDueWebhooks(db, o), deliverDueWebhooks(db, o)]);
  const ids = rx.got.map((r) => r.headers['x-crm-event-id']);
  t.equal(ids.length, 8, 'each event once');
  t.equal(new Set(ids).size, 8);
  t.ok((await deliveries(hook.id, '?limit=200')).every((d) => d.status === 'succeeded'));
  await remove(hook.id);
});

t.test("a worker that dies after claiming leaves its deliveries to the next one once the lease runs out", async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  await contact('Orphaned');
  await fanOutWebhooks(db);
  const now = new Date();
  const claimed = await claimDue(db, now, new Date(now.getTime() + 60_000), 100); // ...and the process is killed here
  t.ok(claimed.length >= 1);
  t.equal(await deliverDueWebhooks(db, opts({ now: new Date(now.getTime() + 30_000) })), 0, 'held while the lease lasts');
  t.equal(await deliverDueWebhooks(db, opts({ now: new Date(now.getTime() + 61_000) })), 1, 'retried after it');
  t.equal(rx.got.length, 1);
  t.match((await deliveries(hook.id))[0], { status: 'succeeded', attempts: 1 });
  await remove(hook.id);
});

t.test('the address is checked again at delivery time', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const literal = await webhook(rx.url);
  const named = await webhook(`http://localhost:${rx.port}/hook`);
  await contact('Rebound');
  await step({ allowPrivateNetworks: false });
  t.equal(rx.got.length, 0, 'nothing reached the private address');
  for (const id of [literal.id, named.id]) {
    const [d] = await deliveries(id);
    t.match(d, { status: 'failed', lastStatusCode: null, lastError: /refused.*private networks/ });
  }
  await remove(literal.id);
  await remove(named.id);
});

t.test('metadata and link-local addresses are refused even with private networks allowed', async (t) => {
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/', 'http://[fe80::1]/', 'http://[fd00:ec2::254]/']) {
    const res = await h.request({ method: 'POST', url: '/v1/webhooks', headers: admin.auth, payload: { url, events: ['*'] } });
    t.equal(res.statusCode, 400, url);
  }
  const ok = await h.request({ method: 'POST', url: '/v1/webhooks', headers: admin.auth, payload: { url: 'http://localhost:9/x', events: ['*'], enabled: false } });
  t.equal(ok.statusCode, 201, 'loopback is allowed here');
  await remove(ok.json().id);
});

t.test('the delivery log pages newest first and filters by status', async (t) => {
  const rx = await receiver((n) => (n % 2 ? 200 : 500));
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  for (let i = 0; i < 4; i++) await contact(`Log ${i}`);
  await step();
  const all = await deliveries(hook.id, '?limit=200');
  t.equal(all.length, 4);
  const page1 = (await h.request({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries?limit=3`, headers: admin.auth })).json();
  const page2 = (await h.request({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries?limit=3&cursor=${page1.nextCursor}`, headers: admin.auth })).json();
  t.same([...page1.data, ...page2.data].map((d: any) => d.id), all.map((d) => d.id));
  const times = all.map((d) => `${d.createdAt}|${d.id}`);
  t.same(times, [...times].sort().reverse(), 'newest first');
  t.equal((await deliveries(hook.id, '?filter[status][eq]=failed')).length, 2);
  const g = await h.gql(admin, 'query($id: ID!) { webhookDeliveries(webhookId: $id, filter: {status: {eq: succeeded}}, first: 10) { edges { node { id status eventType } } } }', { id: hook.id });
  t.equal(g.body.data?.webhookDeliveries.edges.length, 2);
  t.ok(g.body.data?.webhookDeliveries.edges.every((e: any) => e.node.status === 'succeeded' && e.node.eventType === 'contact.created'));
  await remove(hook.id);
});
