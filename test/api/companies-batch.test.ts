import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// POST /v1/companies/batch (API.md §3): per-record results, atomic mode, upsert by domain, limits.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

interface Result {
  index: number;
  id: string | null;
  status: string;
  error?: { code: string; status: number; detail: string; errors?: { path: string; message: string }[] };
}

const batch = (body: Record<string, unknown>, who = admin) =>
  h.request({ method: 'POST', url: '/v1/companies/batch', headers: who.auth, payload: body });

/** Live companies whose name starts with `prefix`: what a batch left behind. */
async function namesStartingWith(prefix: string): Promise<string[]> {
  const res = await h.request({
    method: 'GET', url: '/v1/companies', headers: admin.auth, query: { 'filter[name][startsWith]': prefix, limit: '200', sort: 'name' },
  });
  return res.json().data.map((c: { name: string }) => c.name);
}

const get = (id: string) => h.request({ method: 'GET', url: `/v1/companies/${id}`, headers: admin.auth });

t.test('create: valid records commit even when one fails, each with its own result', async (t) => {
  const res = await batch({
    operation: 'create',
    records: [
      { name: 'Mixed A', domain: 'mixed-a.example' },
      { name: 'Mixed B', phone: 'not a phone' },
      { name: 'Mixed C', employees: 7 },
      { name: 'Mixed D', domain: 'mixed-a.example' },
      { name: 'Mixed E', id: randomUUID() },
    ],
  });
  t.equal(res.statusCode, 200);
  const results: Result[] = res.json().results;
  t.same(results.map((r) => [r.index, r.status]), [[0, 'created'], [1, 'error'], [2, 'created'], [3, 'error'], [4, 'error']]);
  t.match(results[1], { id: null, error: { code: 'validation_failed', status: 400, errors: [{ path: 'phone' }] } });
  t.match(results[3], { id: null, error: { code: 'conflict', status: 409 } }, 'a duplicate domain fails alone');
  t.match(results[4], { error: { code: 'validation_failed', errors: [{ path: 'id', message: 'is read-only' }] } });
  t.same(await namesStartingWith('Mixed '), ['Mixed A', 'Mixed C']);

  const created = await get(results[2]!.id as string);
  t.match(created.json(), { name: 'Mixed C', employees: 7, version: 1, ownerId: admin.id });
});

t.test('atomic: one invalid record writes nothing and answers a problem naming it', async (t) => {
  const res = await batch({
    operation: 'create',
    atomic: true,
    records: [{ name: 'Atomic A' }, { name: 'Atomic B' }, { name: 'Atomic C', currency: 'ABC' }],
  });
  t.equal(res.statusCode, 400);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  const body = res.json();
  t.match(body, { code: 'validation_failed', errors: [{ path: 'records.2.currency' }] });
  t.match(body.results?.at(-1), { index: 2, status: 'error' }, 'the failing record is reported');
  t.same(await namesStartingWith('Atomic '), [], 'nothing committed, not even the valid records before it');

  const ok = await batch({ operation: 'create', atomic: true, records: [{ name: 'Atomic D' }, { name: 'Atomic E' }] });
  t.equal(ok.statusCode, 200);
  t.same(ok.json().results.map((r: Result) => r.status), ['created', 'created']);
  t.same(await namesStartingWith('Atomic '), ['Atomic D', 'Atomic E']);
});

t.test('upsert by domain: created, then updated, then unchanged', async (t) => {
  const first = await batch({ operation: 'upsert', idProperty: 'domain', records: [{ domain: 'Upsert.example', name: 'Upsert One' }] });
  t.equal(first.statusCode, 200);
  const [r1] = first.json().results as Result[];
  t.match(r1, { index: 0, status: 'created' });

  const second = await batch({ operation: 'upsert', idProperty: 'domain', records: [{ domain: 'upsert.EXAMPLE', name: 'Upsert Two', employees: 3 }] });
  const [r2] = second.json().results as Result[];
  t.match(r2, { status: 'updated', id: r1!.id }, 'matched case-insensitively to the same record');

  const third = await batch({ operation: 'upsert', idProperty: 'domain', records: [{ domain: 'upsert.example', name: 'Upsert Two', employees: 3 }] });
  t.match((third.json().results as Result[])[0], { status: 'unchanged', id: r1!.id });

  const stored = (await get(r1!.id as string)).json();
  t.match(stored, { name: 'Upsert Two', employees: 3, domain: 'upsert.example', version: 2 }, 'unchanged did not bump the version');
  t.same(await namesStartingWith('Upsert '), ['Upsert Two'], 'one company, never a second');

  const noKey = await batch({ operation: 'upsert', idProperty: 'domain', records: [{ name: 'Upsert Keyless' }] });
  t.match(noKey.json().results[0], { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'domain' }] } });
});

t.test('upsert of a deleted domain creates a new company', async (t) => {
  const created = await batch({ operation: 'upsert', idProperty: 'domain', records: [{ domain: 'reborn.example', name: 'Reborn Old' }] });
  const oldId = created.json().results[0].id;
  await h.request({ method: 'DELETE', url: `/v1/companies/${oldId}`, headers: admin.auth });
  const again = await batch({ operation: 'upsert', idProperty: 'domain', records: [{ domain: 'reborn.example', name: 'Reborn New' }] });
  const r = again.json().results[0];
  t.equal(r.status, 'created');
  t.not(r.id, oldId);
});

t.test('update by id: found records change, unknown ones fail alone with 404', async (t) => {
  const a = (await batch({ operation: 'create', records: [{ name: 'Upd A' }, { name: 'Upd B' }] })).json().results as Result[];
  const res = await batch({
    operation: 'update',
    records: [
      { id: a[0]!.id, industry: 'logistics' },
      { id: randomUUID(), industry: 'ghost' },
      { id: a[1]!.id, name: 'Upd B' },
      { id: 'not-a-uuid', name: 'x' },
      { industry: 'no id' },
    ],
  });
  t.equal(res.statusCode, 200);
  const results: Result[] = res.json().results;
  t.match(results[0], { status: 'updated', id: a[0]!.id });
  t.match(results[1], { status: 'error', id: null, error: { code: 'not_found', status: 404 } });
  t.match(results[2], { status: 'unchanged', id: a[1]!.id });
  t.match(results[3], { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'id' }] } });
  t.match(results[4], { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'id' }] } });
  t.match((await get(a[0]!.id as string)).json(), { industry: 'logistics', version: 2 });
});

t.test('delete by id and by domain', async (t) => {
  const made = (await batch({ operation: 'create', records: [{ name: 'Del A' }, { name: 'Del B', domain: 'del-b.example' }] })).json().results as Result[];
  const byId = await batch({ operation: 'delete', records: [{ id: made[0]!.id }, { id: randomUUID() }] });
  t.same(byId.json().results.map((r: Result) => r.status), ['deleted', 'error']);
  t.equal(byId.json().results[1].error.status, 404);
  t.equal((await get(made[0]!.id as string)).statusCode, 404);

  const byDomain = await batch({ operation: 'delete', idProperty: 'domain', records: [{ domain: 'DEL-B.example' }] });
  t.match(byDomain.json().results[0], { status: 'deleted', id: made[1]!.id });
  t.same(await namesStartingWith('Del '), []);

  const again = await batch({ operation: 'delete', records: [{ id: made[0]!.id }] });
  t.match(again.json().results[0], { status: 'error', error: { code: 'not_found' } }, 'a deleted record cannot be deleted again');
});

t.test('1001 records is a 400 and writes nothing; 1000 is accepted', async (t) => {
  const tooMany = Array.from({ length: 1001 }, (_, i) => ({ name: `Bulk Over ${i}` }));
  const res = await batch({ operation: 'create', records: tooMany });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'records' }] });
  t.same(await namesStartingWith('Bulk Over '), []);

  // Distinct names, as real companies have: names that all look alike ('Bulk Max 0001', '… 0002') made
  // each write find and store the 50 most similar companies as duplicate candidates (50,000 pairs),
  // which took two thirds of this test's time and is not what it is about (duplicates.test.ts is).
  const max = Array.from({ length: 1000 }, (_, i) => ({ name: `Bulk Max ${String(i).padStart(4, '0')} ${randomUUID()}` }));
  const ok = await batch({ operation: 'create', records: max });
  t.equal(ok.statusCode, 200);
  const results: Result[] = ok.json().results;
  t.equal(results.filter((r) => r.status === 'created').length, 1000);
  t.same(results.map((r) => r.index), max.map((_, i) => i), 'results are in record order');
  const count = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { 'filter[name][startsWith]': 'Bulk Max ' } });
  t.equal(count.json().count, 1000);
});

t.test('the envelope itself is validated', async (t) => {
  for (const body of [
    { operation: 'merge', records: [{ name: 'x' }] },
    { operation: 'create', records: [] },
    { operation: 'create', records: ['just a string'] },
    { operation: 'upsert', idProperty: 'email', records: [{ name: 'x' }] },
    { operation: 'create', records: [{ name: 'x' }], dryRun: true },
  ]) {
    const res = await batch(body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.equal(res.json().code, 'validation_failed');
  }
});

t.test('roles: a viewer may not batch; sales may not touch others\' companies', async (t) => {
  const viewer = await batch({ operation: 'create', records: [{ name: 'Viewer Batch' }] }, h.user('viewer'));
  t.equal(viewer.statusCode, 403);
  t.same(await namesStartingWith('Viewer Batch'), []);

  const owned = (await batch({ operation: 'create', records: [{ name: 'Owned Elsewhere' }] })).json().results[0].id;
  const sales = h.user('sales');
  const res = await batch({ operation: 'update', records: [{ id: owned, name: 'Taken Over' }] }, sales);
  t.match(res.json().results[0], { status: 'error', error: { code: 'forbidden', status: 403 } });
  const mine = await batch({ operation: 'create', records: [{ name: 'Sales Own', ownerId: randomUUID() }] }, sales);
  t.match(mine.json().results[0], { status: 'error', error: { code: 'forbidden', errors: [{ path: 'ownerId' }] } });
});
