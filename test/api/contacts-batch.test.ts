import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// POST /v1/contacts/batch (API.md §3): per-record results, atomic mode, upserts by email and by
// externalId.<system> that stay single under concurrency, roles.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

interface Result { index: number; id: string | null; status: string; error?: { code: string; status: number; errors?: { path: string }[] } }

const batch = (body: Record<string, unknown>, who = admin) =>
  h.request({ method: 'POST', url: '/v1/contacts/batch', headers: who.auth, payload: body });
const results = async (body: Record<string, unknown>, who = admin): Promise<Result[]> => {
  const res = await batch(body, who);
  if (res.statusCode !== 200) throw new Error(`batch failed: ${res.body}`);
  return res.json().results;
};
const live = async (filter: Record<string, string>) =>
  (await h.request({ method: 'GET', url: '/v1/contacts', headers: admin.auth, query: { ...filter, limit: '200' } })).json().data as Record<string, unknown>[];

t.test('create: valid records commit, invalid ones fail alone with their reasons', async (t) => {
  const r = await results({
    operation: 'create',
    records: [
      { firstName: 'Mix A', email: 'mix-a@example.com' },
      { firstName: 'Mix B', phone: 'nope' },
      { lastName: 'Mix C', custom: { tier: 'gold' } },
      { firstName: 'Mix D', email: 'MIX-A@example.com' },
      { firstName: 'Mix E', id: randomUUID() },
      { firstName: 'Mix F', companyId: randomUUID() },
      { firstName: 'Mix G' },
    ],
  });
  t.same(r.map((x) => x.status), ['created', 'error', 'error', 'error', 'error', 'error', 'created']);
  t.match(r[1], { error: { code: 'validation_failed', errors: [{ path: 'phone' }] } });
  t.match(r[2], { error: { code: 'validation_failed', errors: [{ path: 'custom.tier' }] } });
  t.match(r[3], { error: { code: 'conflict', status: 409 } });
  t.match(r[4], { error: { code: 'validation_failed', errors: [{ path: 'id' }] } });
  t.match(r[5], { error: { code: 'invalid_reference', status: 422 } });
  t.same((await live({ 'filter[firstName][startsWith]': 'Mix ', sort: 'firstName' })).map((c) => c.firstName), ['Mix A', 'Mix G']);
});

t.test('atomic: one failure writes nothing', async (t) => {
  const res = await batch({ operation: 'create', atomic: true, records: [{ firstName: 'Atom A' }, { firstName: 'Atom B', email: 'bad' }] });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'records.1.email' }] });
  t.same(await live({ 'filter[firstName][startsWith]': 'Atom ' }), []);
});

t.test('upsert by email: created, updated, unchanged — one record', async (t) => {
  const [a] = await results({ operation: 'upsert', idProperty: 'email', records: [{ email: 'Up@Example.com', firstName: 'Up' }] });
  t.match(a, { status: 'created' });
  const [b] = await results({ operation: 'upsert', idProperty: 'email', records: [{ email: 'up@example.COM', lastName: 'Dated' }] });
  t.match(b, { status: 'updated', id: a!.id });
  const [c] = await results({ operation: 'upsert', idProperty: 'email', records: [{ email: 'up@example.com', lastName: 'Dated' }] });
  t.match(c, { status: 'unchanged', id: a!.id });
  t.match(await live({ 'filter[email][eq]': 'up@example.com' }), [{ id: a!.id, firstName: 'Up', lastName: 'Dated', version: 2 }]);
  const [d] = await results({ operation: 'upsert', idProperty: 'email', records: [{ firstName: 'No Key' }] });
  t.match(d, { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'email' }] } });
});

t.test('upsert by externalId.<system>: matched through externalIds, unique per system', async (t) => {
  const key = { idProperty: 'externalId.shopify' };
  const [a] = await results({ operation: 'upsert', ...key, records: [{ externalIds: { shopify: 'S-1' }, firstName: 'Shop' }] });
  t.match(a, { status: 'created' });
  const [b] = await results({ operation: 'upsert', ...key, records: [{ externalIds: { shopify: 'S-1' }, jobTitle: 'Buyer' }] });
  t.match(b, { status: 'updated', id: a!.id });
  const [other] = await results({ operation: 'upsert', idProperty: 'externalId.erp', records: [{ externalIds: { erp: 'S-1' }, firstName: 'Erp' }] });
  t.match(other, { status: 'created' }, 'the same value in another system is another record');
  t.not(other!.id, a!.id);
  const [missing] = await results({ operation: 'upsert', ...key, records: [{ firstName: 'No Key' }] });
  t.match(missing, { status: 'error', error: { errors: [{ path: 'externalIds.shopify' }] } });
  const bad = await batch({ operation: 'upsert', idProperty: 'externalId.Not Valid', records: [{ firstName: 'x' }] });
  t.equal(bad.statusCode, 400);

  await h.request({ method: 'DELETE', url: `/v1/contacts/${a!.id}`, headers: admin.auth });
  const [reborn] = await results({ operation: 'upsert', ...key, records: [{ externalIds: { shopify: 'S-1' }, firstName: 'Shop Again' }] });
  t.match(reborn, { status: 'created' }, 'a deleted record frees its external id');
  t.not(reborn!.id, a!.id);
  const [del] = await results({ operation: 'delete', ...key, records: [{ externalIds: { shopify: 'S-1' } }] });
  t.match(del, { status: 'deleted', id: reborn!.id });
});

t.test('concurrent upserts of one email and of one external id make exactly one record each', async (t) => {
  const n = 30;
  const email = `race-${randomUUID().slice(0, 6)}@example.com`;
  const ext = `R-${randomUUID().slice(0, 6)}`;
  const byEmail = await Promise.all(Array.from({ length: n }, (_, i) =>
    results({ operation: 'upsert', idProperty: 'email', records: [{ email, firstName: 'Race', lastName: `E${i % 3}` }] })));
  const byExt = await Promise.all(Array.from({ length: n }, (_, i) =>
    results({ operation: 'upsert', idProperty: 'externalId.pos', records: [{ externalIds: { pos: ext }, firstName: 'Race', lastName: `X${i % 3}` }] })));
  for (const [label, all, filter] of [
    ['email', byEmail, { 'filter[email][eq]': email }],
    ['external id', byExt, { 'filter[firstName][eq]': 'Race', 'filter[lastName][startsWith]': 'X' }],
  ] as const) {
    const flat = all.map((r) => r[0]!);
    t.equal(flat.filter((r) => r.status === 'error').length, 0, `${label}: no upsert failed`);
    t.equal(flat.filter((r) => r.status === 'created').length, 1, `${label}: one created`);
    t.equal(new Set(flat.map((r) => r.id)).size, 1, `${label}: all answered the same record`);
    t.equal((await live(filter)).length, 1, `${label}: one live record`);
  }
});

t.test('update and delete by email; 1001 records refused', async (t) => {
  const [a] = await results({ operation: 'create', records: [{ email: 'ud@example.com', firstName: 'Ud' }] });
  const [u] = await results({ operation: 'update', idProperty: 'email', records: [{ email: 'UD@example.com', jobTitle: 'Chief' }] });
  t.match(u, { status: 'updated', id: a!.id });
  const [d] = await results({ operation: 'delete', idProperty: 'email', records: [{ email: 'ud@example.com' }, { email: 'ghost@example.com' }] });
  t.match(d, { status: 'deleted', id: a!.id });
  const tooMany = await batch({ operation: 'create', records: Array.from({ length: 1001 }, (_, i) => ({ firstName: `Over ${i}` })) });
  t.equal(tooMany.statusCode, 400);
});

t.test('roles: viewer refused; sales writes only its own, unowned or team contacts', async (t) => {
  t.equal((await batch({ operation: 'create', records: [{ firstName: 'V' }] }, h.user('viewer'))).statusCode, 403);
  const [theirs] = await results({ operation: 'create', records: [{ firstName: 'Theirs' }] });
  const sales = h.user('sales');
  const [r] = await results({ operation: 'update', records: [{ id: theirs!.id, firstName: 'Mine Now' }] }, sales);
  t.match(r, { status: 'error', error: { code: 'forbidden', status: 403 } });
  const [own] = await results({ operation: 'create', records: [{ firstName: 'Sales Own' }] }, sales);
  const [ok] = await results({ operation: 'update', records: [{ id: own!.id, jobTitle: 'Rep' }] }, sales);
  t.match(ok, { status: 'updated' });
  const [assign] = await results({ operation: 'create', records: [{ firstName: 'Gift', ownerId: randomUUID() }] }, sales);
  t.match(assign, { error: { code: 'forbidden', errors: [{ path: 'ownerId' }] } });
  const patch = await h.request({ method: 'PATCH', url: `/v1/contacts/${theirs!.id}`, headers: sales.auth, payload: { jobTitle: 'x' } });
  t.equal(patch.statusCode, 403);
  t.equal((await h.request({ method: 'GET', url: `/v1/contacts/${theirs!.id}`, headers: sales.auth })).statusCode, 200, 'sales reads all');
  t.equal((await h.request({ method: 'DELETE', url: `/v1/contacts/${theirs!.id}`, headers: h.user('viewer').auth })).statusCode, 403);
});
