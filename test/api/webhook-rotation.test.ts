import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { deliverDueWebhooks, fanOutWebhooks } from '../../src/modules/integration/delivery.service.js';
import { hmacHex, verifySignature } from '../../src/modules/integration/signature.js';

// Secret rotation with an overlap (POST /v1/webhooks/:id/rotate-secret, GraphQL rotateWebhookSecret):
// real deliveries to a receiver on 127.0.0.1 carry both signatures while the overlap lasts and only
// the new one after it. Time moves through the delivery step's injectable clock, and once through SQL.

const h = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;
const MINUTE = 60_000;

interface Received { headers: IncomingHttpHeaders; body: string }

async function receiver() {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const step = async (now?: Date) => {
  await fanOutWebhooks(db);
  return deliverDueWebhooks(db, { allowPrivateNetworks: true, ...(now ? { now: () => now } : {}) });
};
const rotate = (id: string, payload?: Record<string, unknown>, auth = admin.auth) =>
  h.request({ method: 'POST', url: `/v1/webhooks/${id}/rotate-secret`, headers: auth, ...(payload ? { payload } : {}) });
async function webhook(url: string, body: Record<string, unknown> = {}) {
  const res = await h.request({ method: 'POST', url: '/v1/webhooks', headers: admin.auth, payload: { url, events: ['contact.*'], ...body } });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json();
}
async function contact(firstName: string) {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName } });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json();
}
/** the v1= values of a signature header, in order */
const v1s = (header: string) => header.split(',').filter((p) => p.startsWith('v1=')).map((p) => p.slice(3));
const tOf = (header: string) => Number(/^t=(\d+),/.exec(header)?.[1]);

t.test('during the overlap every delivery carries v1=<new>,v1=<old>; after it only the new one', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  const before = Date.now();
  const res = await rotate(hook.id);
  t.equal(res.statusCode, 200);
  t.equal(res.headers.etag, '"2"');
  const rotated = res.json();
  t.match(rotated, { id: hook.id, version: 2, url: rx.url });
  t.match(rotated.secret, /^whsec_[A-Za-z0-9_-]{43}$/, 'a generated secret, shown in this answer');
  t.not(rotated.secret, hook.secret);
  const expires = Date.parse(rotated.previousSecretExpiresAt);
  t.ok(expires >= before + 1440 * MINUTE && expires <= Date.now() + 1440 * MINUTE, 'the overlap defaults to a day');

  const read = (await h.request({ method: 'GET', url: `/v1/webhooks/${hook.id}`, headers: admin.auth })).json();
  t.equal(read.secret, undefined, 'reads never show the secret');
  t.equal(read.previousSecretExpiresAt, rotated.previousSecretExpiresAt, 'reads show the end of the overlap');

  await contact('Overlap');
  t.equal(await step(), 1);
  const during = rx.got[0] as Received;
  const sig = during.headers['x-crm-signature'] as string;
  t.match(sig, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/, 'two signatures');
  t.same(v1s(sig), [hmacHex(rotated.secret, tOf(sig), during.body), hmacHex(hook.secret, tOf(sig), during.body)], 'the new one first, then the old');
  t.ok(verifySignature(sig, rotated.secret, during.body), 'a receiver with the new secret accepts it');
  t.ok(verifySignature(sig, hook.secret, during.body), 'a receiver still on the old secret accepts it');
  t.notOk(verifySignature(sig, hook.secret, during.body.replace('Overlap', 'Tampered')), 'a changed body fails either way');

  // the delivery step's clock moves past the end of the overlap
  const later = new Date(expires + 1000);
  await contact('After');
  t.equal(await step(later), 1);
  const after = rx.got[1] as Received;
  const sig2 = after.headers['x-crm-signature'] as string;
  t.match(sig2, /^t=\d+,v1=[0-9a-f]{64}$/, 'one signature after the overlap');
  t.equal(tOf(sig2), Math.floor(later.getTime() / 1000));
  const at = { nowSeconds: tOf(sig2) };
  t.ok(verifySignature(sig2, rotated.secret, after.body, at), 'the new secret verifies');
  t.notOk(verifySignature(sig2, hook.secret, after.body, at), 'the old one no longer does');
});

t.test('the overlap ends when previous_secret_expires_at passes (moved in SQL)', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  const rotated = (await rotate(hook.id, { overlapMinutes: 10 })).json();
  const expires = Date.parse(rotated.previousSecretExpiresAt);
  t.ok(expires > Date.now() + 9 * MINUTE && expires <= Date.now() + 10 * MINUTE, 'overlapMinutes is honoured');
  await db.execute(sql`UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' WHERE id = ${hook.id}`);
  await contact('Expired');
  await step();
  const sig = rx.got[0]?.headers['x-crm-signature'] as string;
  t.equal(v1s(sig).length, 1);
  t.ok(verifySignature(sig, rotated.secret, rx.got[0]?.body as string));
  t.notOk(verifySignature(sig, hook.secret, rx.got[0]?.body as string));
});

t.test('a chosen secret with overlapMinutes 0 replaces the old one at once; no body means the defaults', async (t) => {
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await webhook(rx.url);
  const res = await rotate(hook.id, { secret: 'caller-chosen-secret-0123456789', overlapMinutes: 0 });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { secret: 'caller-chosen-secret-0123456789', previousSecretExpiresAt: null, version: 2 });
  await contact('Immediate');
  await step();
  const sig = rx.got[0]?.headers['x-crm-signature'] as string;
  t.equal(v1s(sig).length, 1, 'no overlap: one signature');
  t.ok(verifySignature(sig, 'caller-chosen-secret-0123456789', rx.got[0]?.body as string));

  const bare = await h.request({ method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, headers: admin.auth });
  t.equal(bare.statusCode, 200, 'no body at all');
  t.ok(bare.json().previousSecretExpiresAt);
  await contact('Bare');
  await step();
  const sig2 = rx.got[1]?.headers['x-crm-signature'] as string;
  t.same(v1s(sig2).length, 2);
  t.ok(verifySignature(sig2, 'caller-chosen-secret-0123456789', rx.got[1]?.body as string), 'the chosen secret is now the previous one');

  // a secret set by PATCH replaces the current one at once and ends the overlap
  const patched = await h.request({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin.auth, payload: { secret: 'patched-secret-0123456789abc' } });
  t.equal(patched.json().previousSecretExpiresAt, null);
  await contact('Patched');
  await step();
  t.equal(v1s(rx.got[2]?.headers['x-crm-signature'] as string).length, 1);
});

t.test('validation, 404, roles', async (t) => {
  const hook = await webhook('http://127.0.0.1:9/none', { enabled: false });
  const bad = async (payload: Record<string, unknown>, path: string) => {
    const res = await rotate(hook.id, payload);
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.match(res.json(), { code: 'validation_failed', errors: [{ path }] });
  };
  await bad({ overlapMinutes: 10_081 }, 'overlapMinutes');
  await bad({ overlapMinutes: -1 }, 'overlapMinutes');
  await bad({ overlapMinutes: 1.5 }, 'overlapMinutes');
  await bad({ secret: 'short' }, 'secret');
  await bad({ secret: 'x'.repeat(257) }, 'secret');
  await bad({ url: 'http://127.0.0.1:9/other' }, 'url');
  await rotate(hook.id, { secret: 'the-same-secret-twice-123' });
  await bad({ secret: 'the-same-secret-twice-123' }, 'secret');
  t.equal((await rotate(hook.id, { overlapMinutes: 10_080 })).statusCode, 200, 'a week is the longest overlap');

  t.equal((await rotate('01890a5d-ac96-774b-bcce-b302099a8057')).statusCode, 404);
  await h.request({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin.auth });
  t.equal((await rotate(hook.id)).statusCode, 404, 'a deleted webhook is not rotated');

  const other = await webhook('http://127.0.0.1:9/none', { enabled: false });
  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    t.equal((await rotate(other.id, {}, h.user(role).auth)).statusCode, 403, role);
  }
  t.equal((await h.request({ method: 'POST', url: `/v1/webhooks/${other.id}/rotate-secret` })).statusCode, 401);
  t.equal((await rotate(other.id, {}, h.user('manager').auth)).statusCode, 200, 'manager');
});

t.test('audited and announced as webhook.secret_rotated, without the secrets', async (t) => {
  const hook = await webhook('http://127.0.0.1:9/none', { enabled: false });
  const rotated = (await rotate(hook.id)).json();
  const audit = await h.request({ method: 'GET', url: `/v1/audit-logs?entityType=webhook&entityId=${hook.id}`, headers: admin.auth });
  const entry = audit.json().data.find((a: any) => a.action === 'rotate_secret');
  t.ok(entry, 'the rotation is in the audit log');
  t.match(entry, { entityId: hook.id, before: { version: 1 }, after: { version: 2 } });
  t.notMatch(audit.body, hook.secret, 'the old secret is not in the audit log');
  t.notMatch(audit.body, rotated.secret, 'nor the new one');

  const feed = await h.request({ method: 'GET', url: `/v1/events?entityId=${hook.id}&types=webhook.secret_rotated`, headers: admin.auth });
  const events = feed.json().data;
  t.equal(events.length, 1);
  t.match(events[0], { type: 'webhook.secret_rotated', entityType: 'webhook', data: { after: { previousSecretExpiresAt: rotated.previousSecretExpiresAt } } });
  t.notMatch(feed.body, hook.secret);
  t.notMatch(feed.body, rotated.secret);
});

t.test('GraphQL rotateWebhookSecret', async (t) => {
  const hook = await webhook('http://127.0.0.1:9/none', { enabled: false });
  const M = 'mutation($id: ID!, $o: Int, $s: String) { rotateWebhookSecret(id: $id, overlapMinutes: $o, secret: $s) { id version secret previousSecretExpiresAt } }';
  const g = await h.gql(admin, M, { id: hook.id, o: 60 });
  const r = g.body.data?.rotateWebhookSecret;
  t.match(r, { id: hook.id, version: 2, secret: /^whsec_/ });
  const expires = Date.parse(r.previousSecretExpiresAt);
  t.ok(expires > Date.now() + 59 * MINUTE && expires <= Date.now() + 60 * MINUTE);
  const chosen = await h.gql(admin, M, { id: hook.id, o: 0, s: 'graphql-chosen-secret-42' });
  t.match(chosen.body.data?.rotateWebhookSecret, { secret: 'graphql-chosen-secret-42', previousSecretExpiresAt: null });
  const read = await h.gql(admin, 'query($id: ID!) { webhook(id: $id) { secret previousSecretExpiresAt } }', { id: hook.id });
  t.same(read.body.data?.webhook, { secret: null, previousSecretExpiresAt: null });

  const tooLong = await h.gql(admin, M, { id: hook.id, o: 20_000 });
  t.equal(tooLong.body.errors?.[0]?.extensions?.code, 'validation_failed');
  const refused = await h.gql(h.user('sales'), M, { id: hook.id });
  t.equal(refused.body.errors?.[0]?.extensions?.code, 'forbidden');
});
