import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Idempotency-Key on POST (API.md §3): replay, reuse with another body, and concurrent duplicates.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const post = (url: string, body: unknown, key: string | undefined, who = admin) =>
  h.request({ method: 'POST', url, headers: { ...who.auth, ...(key === undefined ? {} : { 'idempotency-key': key }) }, payload: body as object });

async function countNamed(name: string): Promise<number> {
  const res = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { 'filter[name][eq]': name } });
  return res.json().count;
}

t.test('same key and body: the first response is replayed and only one company exists', async (t) => {
  const key = randomUUID();
  const body = { name: 'Idem Once', domain: 'idem-once.example' };
  const first = await post('/v1/companies', body, key);
  t.equal(first.statusCode, 201);
  t.notOk(first.headers['idempotent-replayed'], 'the first one is not a replay');

  const second = await post('/v1/companies', body, key);
  t.equal(second.statusCode, 201, 'same status');
  t.equal(second.body, first.body, 'same body, byte for byte');
  t.equal(second.headers['idempotent-replayed'], 'true');
  t.equal(second.headers.location, first.headers.location, 'Location replayed');
  t.equal(second.headers.etag, '"1"', 'ETag replayed');
  t.equal(await countNamed('Idem Once'), 1, 'one company, not two');

  const withoutKey = await post('/v1/companies', { name: 'Idem Once' }, undefined);
  t.equal(withoutKey.statusCode, 201, 'without a key every POST is new');
  t.equal(await countNamed('Idem Once'), 2);
});

t.test('same key with another body is 422 idempotency_key_reused and writes nothing', async (t) => {
  const key = randomUUID();
  t.equal((await post('/v1/companies', { name: 'Idem First' }, key)).statusCode, 201);
  const other = await post('/v1/companies', { name: 'Idem Other' }, key);
  t.equal(other.statusCode, 422);
  t.match(other.headers['content-type'], /^application\/problem\+json/);
  t.equal(other.json().code, 'idempotency_key_reused');
  t.equal(await countNamed('Idem Other'), 0);

  const otherPath = await post('/v1/companies/batch', { operation: 'create', records: [{ name: 'Idem First' }] }, key);
  t.equal(otherPath.statusCode, 422, 'the key is bound to the request, path included');
});

t.test('keys belong to their caller: another user with the same key makes their own company', async (t) => {
  const key = randomUUID();
  const body = { name: 'Idem Per Caller' };
  const mine = await post('/v1/companies', body, key);
  const theirs = await post('/v1/companies', body, key, h.user('manager'));
  t.equal(theirs.statusCode, 201);
  t.notOk(theirs.headers['idempotent-replayed']);
  t.not(theirs.json().id, mine.json().id);
  t.equal(await countNamed('Idem Per Caller'), 2);
});

t.test('a refused request is replayed as refused, and the key stays bound to it', async (t) => {
  const key = randomUUID();
  const bad = { name: 'Idem Bad', phone: 'nope' };
  const first = await post('/v1/companies', bad, key);
  t.equal(first.statusCode, 400);
  const again = await post('/v1/companies', bad, key);
  t.equal(again.statusCode, 400);
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.equal(again.json().requestId, first.json().requestId, 'the very same answer');
  t.equal(await countNamed('Idem Bad'), 0);
});

t.test('an over-long key is a 400', async (t) => {
  const res = await post('/v1/companies', { name: 'Idem Long Key' }, 'k'.repeat(256));
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'Idempotency-Key' }] });
  t.equal(await countNamed('Idem Long Key'), 0);
});

t.test('20 concurrent duplicates create exactly one company', async (t) => {
  const key = randomUUID();
  const name = `Idem Race ${key}`;
  const replies = await Promise.all(Array.from({ length: 20 }, () => post('/v1/companies', { name }, key)));
  const statuses = replies.map((r) => r.statusCode);
  // the first runs; the others wait and replay it, or (if it took too long) get 409 — never a second write
  t.ok(statuses.every((s) => s === 201 || s === 409), `only 201 or 409: ${statuses.join(',')}`);
  const created = replies.filter((r) => r.statusCode === 201);
  t.ok(created.length >= 1);
  t.equal(new Set(created.map((r) => r.json().id)).size, 1, 'every 201 names the same company');
  t.equal(created.filter((r) => r.headers['idempotent-replayed'] !== 'true').length, 1, 'exactly one original answer');
  t.equal(await countNamed(name), 1);
});

t.test('batches are idempotent too', async (t) => {
  const key = randomUUID();
  const body = { operation: 'create', records: [{ name: 'Idem Batch 1' }, { name: 'Idem Batch 2' }] };
  const first = await post('/v1/companies/batch', body, key);
  t.equal(first.statusCode, 200);
  const second = await post('/v1/companies/batch', body, key);
  t.equal(second.headers['idempotent-replayed'], 'true');
  t.same(second.json(), first.json());
  t.equal(await countNamed('Idem Batch 1'), 1);
  t.equal(await countNamed('Idem Batch 2'), 1);
});
