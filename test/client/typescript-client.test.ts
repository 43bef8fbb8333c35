import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import {
  CrmApiError, createCrmClient, parseWebhookEvent, unwrap, verifyWebhookSignature, WebhookSignatureError,
} from '../../clients/typescript/src/index.js';
import { deliverDueWebhooks, fanOutWebhooks } from '../../src/modules/integration/delivery.service.js';
import { startTestApp } from '../helpers/app.js';

// The TypeScript client against the real server on a real port (a test database of its own), and a
// real webhook receiver on 127.0.0.1: no part of the path between them is simulated.

const h = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
await h.app.listen({ port: 0, host: '127.0.0.1' });
const baseUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
t.teardown(() => h.close());

const admin = h.user('admin');
const crm = createCrmClient({ baseUrl, token: admin.token, retry: { baseDelayMs: 10 } });

/** A listener on 127.0.0.1 whose handler sees the raw request; closed when the test ends. */
async function listen(t: Test, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const readBody = (req: http.IncomingMessage) => new Promise<string>((resolve) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => resolve(body));
});

t.test('pages and items walk a filtered collection to its end, one cursor at a time', async (t) => {
  const lastName = `Paged${Date.now()}`;
  const records = Array.from({ length: 7 }, (_, i) => ({ firstName: `P${i}`, lastName, email: `p${i}.${lastName}@example.com` }));
  const batch = await unwrap(crm.POST('/v1/contacts/batch', { body: { operation: 'create', records } }));
  t.same(batch.results.map((r) => r.status), Array(7).fill('created'));
  await unwrap(crm.POST('/v1/contacts', { body: { firstName: 'Outside', lastName: 'Filter' } }));

  const query = { limit: 3, sort: 'firstName', filter: { lastName: { eq: lastName } } };
  const sizes: number[] = [];
  for await (const page of crm.pages('/v1/contacts', { query })) sizes.push(page.data.length);
  t.same(sizes, [3, 3, 1], 'three pages of at most 3, the last one ending the walk');

  const names: string[] = [];
  for await (const contact of crm.items('/v1/contacts', { query })) names.push(String(contact.firstName));
  t.same(names, records.map((r) => r.firstName), 'every matching record once, in the sort order, none from outside the filter');
});

t.test('a POST whose answer was lost is retried with the same Idempotency-Key and written once', async (t) => {
  // An HTTP proxy in front of the server that forwards the first request, waits for the server's
  // answer, and then cuts the connection: the write happened, the client never heard of it.
  const seen: IncomingHttpHeaders[] = [];
  const proxyUrl = await listen(t, async (req, res) => {
    const body = await readBody(req);
    seen.push(req.headers);
    const upstream = await fetch(`${baseUrl}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>,
      body,
    });
    const text = await upstream.text();
    if (seen.length === 1) return req.socket.destroy();
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers)).end(text);
  });
  const viaProxy = createCrmClient({ baseUrl: proxyUrl, token: admin.token, retry: { baseDelayMs: 10 } });
  const email = `retried.${Date.now()}@example.com`;

  const { data, response } = await viaProxy.POST('/v1/contacts', { body: { firstName: 'Retried', email } });
  t.equal(response.status, 201);
  t.equal(response.headers.get('idempotent-replayed'), 'true', 'the second attempt got the first answer replayed');
  t.equal(seen.length, 2, 'sent twice');
  const [first, second] = seen.map((hdr) => hdr['idempotency-key']);
  t.match(first, /^[0-9a-f-]{36}$/, 'a generated key');
  t.equal(second, first, 'the retry reused the key');

  const found = await unwrap(crm.GET('/v1/contacts', { params: { query: { filter: { email: { eq: email } } } } }));
  t.equal(found.data.length, 1, 'one contact, not two');
  t.equal(found.data[0]?.id, data?.id, 'and it is the one the client was answered with');
});

t.test('without retries the lost answer surfaces, and an explicit key is kept', async (t) => {
  let calls = 0;
  const keys: unknown[] = [];
  const proxyUrl = await listen(t, (req) => {
    calls++;
    keys.push(req.headers['idempotency-key']);
    req.socket.destroy();
  });
  const noRetry = createCrmClient({ baseUrl: proxyUrl, token: admin.token, retry: false });
  await t.rejects(noRetry.POST('/v1/contacts', { body: { firstName: 'Lost' } }), TypeError);
  t.equal(calls, 1, 'tried once');

  const retrying = createCrmClient({ baseUrl: proxyUrl, token: admin.token, retry: { retries: 2, baseDelayMs: 5 } });
  await t.rejects(retrying.POST('/v1/contacts', { body: { firstName: 'Lost' }, headers: { 'Idempotency-Key': 'my-own-key-1' } }));
  t.same(keys.slice(1), ['my-own-key-1', 'my-own-key-1', 'my-own-key-1'], 'the first try and two retries, all with the caller\'s key');
});

t.test('503 with Retry-After is waited out and retried', async (t) => {
  let calls = 0;
  const proxyUrl = await listen(t, async (req, res) => {
    calls++;
    if (calls === 1) return res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/problem+json' }).end('{}');
    const upstream = await fetch(`${baseUrl}${req.url}`, { headers: { authorization: String(req.headers.authorization) } });
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
  });
  const client = createCrmClient({ baseUrl: proxyUrl, token: admin.token, retry: { baseDelayMs: 5 } });
  const page = await unwrap(client.GET('/v1/contacts', { params: { query: { limit: 1 } } }));
  t.equal(calls, 2);
  t.equal(page.data.length, 1);
});

t.test('PATCH with If-Match: the current version passes, a stale one is a typed 412 with the current record', async (t) => {
  const created = await unwrap(crm.POST('/v1/contacts', { body: { firstName: 'Versioned' } }));
  const read = await crm.GET('/v1/contacts/{id}', { params: { path: { id: created.id } } });
  const etag = read.response.headers.get('etag');
  t.equal(etag, '"1"');

  const patched = await unwrap(crm.PATCH('/v1/contacts/{id}', {
    params: { path: { id: created.id } }, body: { jobTitle: 'Buyer' }, headers: { 'If-Match': etag as string },
  }));
  t.equal(patched.version, 2);
  t.equal(patched.jobTitle, 'Buyer');

  const stale = await unwrap(crm.PATCH('/v1/contacts/{id}', {
    params: { path: { id: created.id } }, body: { jobTitle: 'Lost update' }, headers: { 'If-Match': etag as string },
  })).catch((e: unknown) => e);
  t.ok(stale instanceof CrmApiError, 'a CrmApiError');
  const err = stale as CrmApiError;
  t.equal(err.status, 412);
  t.equal(err.code, 'version_conflict');
  t.match(err.problem.current, { id: created.id, version: 2, jobTitle: 'Buyer' }, 'the current record comes with it');
  const after = await unwrap(crm.GET('/v1/contacts/{id}', { params: { path: { id: created.id } } }));
  t.equal(after.jobTitle, 'Buyer', 'the stale patch changed nothing');
});

t.test('problem+json answers become typed errors with code, status, request id and field errors', async (t) => {
  const bad = await unwrap(crm.POST('/v1/contacts', { body: { firstName: 'X', favouriteColour: 'blue' } as never })).catch((e: unknown) => e);
  t.ok(bad instanceof CrmApiError);
  t.match(bad, { status: 400, code: 'validation_failed', problem: { errors: [{ path: 'favouriteColour' }] } });
  t.match((bad as CrmApiError).requestId, /\S/, 'the request id to quote to an operator');

  const missing = await unwrap(crm.GET('/v1/contacts/{id}', { params: { path: { id: '0190a0a0-0000-7000-8000-000000000000' } } })).catch((e: unknown) => e);
  t.match(missing, { status: 404, code: 'not_found' });

  const viewer = createCrmClient({ baseUrl, token: h.user('viewer').token });
  const refused = await unwrap(viewer.POST('/v1/contacts', { body: { firstName: 'Nope' } })).catch((e: unknown) => e);
  t.match(refused, { status: 403, code: 'forbidden' });

  const anonymous = createCrmClient({ baseUrl });
  const { error, response } = await anonymous.GET('/v1/contacts');
  t.equal(response.status, 401);
  t.equal(error?.code, 'unauthenticated', 'the raw client types the error body as a Problem too');
});

t.test('a real webhook delivery verifies with its secret; tampering, another secret and an old timestamp do not', async (t) => {
  const got: { body: string; signature: string }[] = [];
  const receiverUrl = await listen(t, async (req, res) => {
    got.push({ body: await readBody(req), signature: String(req.headers['x-crm-signature']) });
    res.writeHead(204).end();
  });
  const hook = await unwrap(crm.POST('/v1/webhooks', { body: { url: `${receiverUrl}/hook`, events: ['contact.created'] } }));
  const secret = hook.secret as string;
  const contact = await unwrap(crm.POST('/v1/contacts', { body: { firstName: 'Signed' } }));
  // workers are off in tests: run the fan-out and one delivery pass, as the worker would
  const db = h.db.database.db;
  const deliver = async () => {
    await fanOutWebhooks(db);
    await deliverDueWebhooks(db, { allowPrivateNetworks: true });
  };
  await deliver();
  t.equal(got.length, 1, 'one delivery');
  const { body, signature } = got[0]!;

  t.match(await verifyWebhookSignature(body, signature, secret), { ok: true });
  const event = await parseWebhookEvent(body, signature, secret);
  t.match(event, { type: 'contact.created', entityId: contact.id });
  t.same(await verifyWebhookSignature(body.replace('Signed', 'Forged'), signature, secret), { ok: false, reason: 'no_matching_signature' });
  t.same(await verifyWebhookSignature(body, signature, 'whsec_someone-else'), { ok: false, reason: 'no_matching_signature' });
  const sentAt = Number(/t=(\d+)/.exec(signature)?.[1]);
  t.same(await verifyWebhookSignature(body, signature, secret, { nowSeconds: sentAt + 301 }), { ok: false, reason: 'timestamp_out_of_tolerance' });
  t.match(await verifyWebhookSignature(body, signature, secret, { nowSeconds: sentAt + 299 }), { ok: true }, 'inside the 5 minutes');
  t.same(await verifyWebhookSignature(body, 'v1=abc', secret), { ok: false, reason: 'malformed_header' });
  await t.rejects(parseWebhookEvent(body, signature, 'whsec_wrong'), WebhookSignatureError);

  // during a rotation the service signs with both secrets: a receiver holding either accepts
  const rotated = await unwrap(crm.POST('/v1/webhooks/{id}/rotate-secret', { params: { path: { id: hook.id } }, body: { overlapMinutes: 60 } }));
  await unwrap(crm.POST('/v1/contacts', { body: { firstName: 'Rotated' } }));
  await deliver();
  t.equal(got.length, 2);
  const second = got[1]!;
  t.match(second.signature, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
  t.match(await verifyWebhookSignature(second.body, second.signature, secret), { ok: true }, 'the old secret still verifies');
  t.match(await verifyWebhookSignature(second.body, second.signature, rotated.secret as string), { ok: true }, 'the new one too');
});
