import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { queryRows } from '../../src/platform/db/execute.js';

// Companies matched by externalId.<system> (API.md §3), as contacts are: batch upsert, update and
// delete over REST and GraphQL, one record per external id even under 30 concurrent upserts.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

interface Result { index: number; id: string | null; status: string; error?: { code: string; status: number; errors?: { path: string }[] } }

const batch = (body: Record<string, unknown>, who = admin) =>
  h.request({ method: 'POST', url: '/v1/companies/batch', headers: who.auth, payload: body });
const results = async (body: Record<string, unknown>, who = admin): Promise<Result[]> => {
  const res = await batch(body, who);
  if (res.statusCode !== 200) throw new Error(`batch failed: ${res.body}`);
  return res.json().results;
};
const live = async (filter: Record<string, string>) =>
  (await h.request({ method: 'GET', url: '/v1/companies', headers: admin.auth, query: { ...filter, limit: '200' } })).json().data as Record<string, unknown>[];
const get = async (id: string | null) => (await h.request({ method: 'GET', url: `/v1/companies/${id ?? 'none'}`, headers: admin.auth })).json();

t.test('upsert by externalId.shopify: created, then updated and unchanged through externalIds', async (t) => {
  const key = { operation: 'upsert', idProperty: 'externalId.shopify' };
  const [a] = await results({ ...key, records: [{ externalIds: { shopify: 'C-1' }, name: 'Shop Co' }] });
  t.match(a, { status: 'created' });
  const [b] = await results({ ...key, records: [{ externalIds: { shopify: ' C-1 ' }, industry: 'Retail' }] });
  t.match(b, { status: 'updated', id: a!.id }, 'the key is trimmed like the stored value');
  const [c] = await results({ ...key, records: [{ externalIds: { shopify: 'C-1' }, industry: 'Retail' }] });
  t.match(c, { status: 'unchanged', id: a!.id });
  t.match(await get(a!.id), { name: 'Shop Co', industry: 'Retail', externalIds: { shopify: 'C-1' }, version: 2 });

  const [other] = await results({ operation: 'upsert', idProperty: 'externalId.erp', records: [{ externalIds: { erp: 'C-1' }, name: 'Erp Co' }] });
  t.match(other, { status: 'created' }, 'the same value in another system is another company');
  t.not(other!.id, a!.id);
  const [both] = await results({ ...key, records: [{ externalIds: { shopify: 'C-1', erp: 'C-1' } }] });
  t.match(both, { status: 'error', error: { code: 'conflict', status: 409, errors: [{ path: 'externalIds.erp' }] } }, 'an id another company holds is refused');
});

t.test('update and delete by externalId; a deleted company frees its id', async (t) => {
  const key = { idProperty: 'externalId.hub' };
  const [a] = await results({ operation: 'create', records: [{ name: 'Hub Co', externalIds: { hub: 'h-1' } }] });
  const [u, none] = await results({ operation: 'update', ...key, records: [{ externalIds: { hub: 'h-1' }, employees: 12 }, { externalIds: { hub: 'ghost' }, employees: 1 }] });
  t.match(u, { status: 'updated', id: a!.id });
  t.match(none, { status: 'error', error: { code: 'not_found' } }, 'update never creates');
  t.equal((await get(a!.id)).employees, 12);
  const [del, ghost] = await results({ operation: 'delete', ...key, records: [{ externalIds: { hub: 'h-1' } }, { externalIds: { hub: 'ghost' } }] });
  t.match(del, { status: 'deleted', id: a!.id });
  t.match(ghost, { status: 'error', error: { code: 'not_found', status: 404 } });
  const [reborn] = await results({ operation: 'upsert', ...key, records: [{ externalIds: { hub: 'h-1' }, name: 'Hub Again' }] });
  t.match(reborn, { status: 'created' });
  t.not(reborn!.id, a!.id);
  const restore = await h.request({ method: 'POST', url: `/v1/companies/${a!.id}/restore`, headers: admin.auth });
  t.equal(restore.statusCode, 409, 'restoring the old holder would take the id twice');
});

t.test('validation: missing key, bad idProperty, unknown and read-only fields', async (t) => {
  const [missing] = await results({ operation: 'upsert', idProperty: 'externalId.shopify', records: [{ name: 'No Key' }] });
  t.match(missing, { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'externalIds.shopify' }] } });
  const [blank] = await results({ operation: 'upsert', idProperty: 'externalId.shopify', records: [{ name: 'Blank', externalIds: { shopify: 7 } }] });
  t.match(blank, { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'externalIds.shopify' }] } });
  const [unknown, readOnly, noName] = await results({
    operation: 'upsert', idProperty: 'externalId.shopify',
    records: [
      { externalIds: { shopify: 'V-1' }, name: 'Unknown', colour: 'red' },
      { externalIds: { shopify: 'V-2' }, name: 'Read Only', version: 3 },
      { externalIds: { shopify: 'V-3' } },
    ],
  });
  t.match(unknown, { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'colour' }] } });
  t.match(readOnly, { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'version' }] } });
  t.match(noName, { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'name' }] } }, 'a new company still needs a name');
  t.same(await live({ 'filter[name][eq]': 'Unknown' }), [], 'nothing written');
  for (const idProperty of ['externalId.Not Valid', 'externalId.', 'email', 'externalIds.shopify']) {
    const res = await batch({ operation: 'upsert', idProperty, records: [{ name: 'x' }] });
    t.equal(res.statusCode, 400, idProperty);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'idProperty' }] });
  }
});

t.test('roles: a viewer may not upsert; sales may not update a company out of its scope', async (t) => {
  const viewer = await batch({ operation: 'upsert', idProperty: 'externalId.pos', records: [{ externalIds: { pos: 'v' }, name: 'V' }] }, h.user('viewer'));
  t.equal(viewer.statusCode, 403);
  const [owned] = await results({ operation: 'create', records: [{ name: 'Owned Ext', externalIds: { pos: 'owned-1' }, ownerId: randomUUID() }] });
  const [taken] = await results({ operation: 'upsert', idProperty: 'externalId.pos', records: [{ externalIds: { pos: 'owned-1' }, name: 'Taken' }] }, h.user('sales'));
  t.match(taken, { status: 'error', error: { code: 'forbidden', status: 403 } });
  t.equal((await get(owned!.id)).name, 'Owned Ext');
});

t.test('30 concurrent upserts of one external id make exactly one company', async (t) => {
  const n = 30;
  const ext = `R-${randomUUID().slice(0, 8)}`;
  const all = await Promise.all(Array.from({ length: n }, (_, i) =>
    results({ operation: 'upsert', idProperty: 'externalId.shopify', records: [{ externalIds: { shopify: ext }, name: 'Race Co', industry: `I${i % 3}` }] })));
  const flat = all.map((r) => r[0]!);
  t.same(flat.filter((r) => r.status === 'error'), [], 'no upsert failed');
  t.equal(flat.filter((r) => r.status === 'created').length, 1, 'one created');
  t.equal(new Set(flat.map((r) => r.id)).size, 1, 'all answered the same company');
  t.equal((await live({ 'filter[name][eq]': 'Race Co' })).length, 1, 'one live company');
  const claims = await queryRows<{ n: number }>(h.db.database.db,
    sql`SELECT count(*)::int AS n FROM external_ids WHERE entity_type = 'company' AND system = 'shopify' AND external_id = ${ext}`);
  t.equal(claims.rows[0]?.n, 1, 'one claim in external_ids');
});

t.test('GraphQL upsertCompanies and batchCompanies take the same idProperty', async (t) => {
  const UPSERT = 'mutation($p: String, $r: [JSON!]!) { upsertCompanies(idProperty: $p, records: $r) { index id status error { code status errors { path } } } }';
  const first = await h.gql(admin, UPSERT, { p: 'externalId.gql', r: [{ externalIds: { gql: 'g-1' }, name: 'Graph Ext' }] });
  t.match(first.body.data?.upsertCompanies, [{ status: 'created' }]);
  const id = first.body.data?.upsertCompanies[0].id;
  const again = await h.gql(admin, UPSERT, { p: 'externalId.gql', r: [{ externalIds: { gql: 'g-1' }, name: 'Graph Ext 2' }, { name: 'No Key' }] });
  t.match(again.body.data?.upsertCompanies, [
    { status: 'updated', id },
    { status: 'error', id: null, error: { code: 'validation_failed', errors: [{ path: 'externalIds.gql' }] } },
  ]);
  const BATCH = 'mutation($op: BatchOperation!, $p: String, $r: [JSON!]!) { batchCompanies(operation: $op, idProperty: $p, records: $r) { id status error { code } } }';
  const upd = await h.gql(admin, BATCH, { op: 'update', p: 'externalId.gql', r: [{ externalIds: { gql: 'g-1' }, employees: 5 }] });
  t.match(upd.body.data?.batchCompanies, [{ status: 'updated', id }]);
  t.match(await get(id), { name: 'Graph Ext 2', employees: 5, version: 3 });
  const byDefault = await h.gql(admin, 'mutation($r: [JSON!]!) { upsertCompanies(records: $r) { status error { code } } }', { r: [{ id: randomUUID(), name: 'x' }] });
  t.match(byDefault.body.data?.upsertCompanies, [{ status: 'error', error: { code: 'not_found' } }], 'the default idProperty is id');

  const bad = await h.gql(admin, UPSERT, { p: 'externalId.Not Valid', r: [{ name: 'x' }] });
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.match(bad.body.errors?.[0]?.extensions.errors, [{ path: 'idProperty' }]);
  const viewer = await h.gql(h.user('viewer'), UPSERT, { p: 'externalId.gql', r: [{ externalIds: { gql: 'g-2' }, name: 'V' }] });
  t.equal(viewer.body.errors?.[0]?.extensions.code, 'forbidden');
});
