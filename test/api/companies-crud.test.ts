import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Read, JSON merge patch with versions and If-Match, soft delete and restore of one company.

const h = await startTestApp();
t.teardown(() => h.close());

const admin = h.user('admin');
const manager = h.user('manager');
const sales = h.user('sales');

async function createCompany(body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const get = (id: string, query: Record<string, string> = {}, who = admin) =>
  h.request({ method: 'GET', url: `/v1/companies/${id}`, headers: who.auth, query });

const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  h.request({ method: 'PATCH', url: `/v1/companies/${id}`, headers: { ...admin.auth, ...headers }, payload: body as object });

t.test('read answers the record with its ETag', async (t) => {
  const c = await createCompany({ name: 'Read Me', industry: 'retail' });
  const res = await get(c.id);
  t.equal(res.statusCode, 200);
  t.equal(res.headers.etag, '"1"');
  t.same(res.json(), c, 'a bare record, no data wrapper');

  await patch(c.id, { industry: 'wholesale' });
  const again = await get(c.id);
  t.equal(again.headers.etag, '"2"', 'the ETag follows the version');
});

t.test('an unknown id is a 404 problem; a malformed id a 400', async (t) => {
  const missing = await get(randomUUID());
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], /^application\/problem\+json/);
  t.match(missing.json(), { code: 'not_found', status: 404 });

  const bad = await get('not-a-uuid');
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { code: 'validation_failed', errors: [{ path: 'id' }] });
});

t.test('fields= returns only those fields and id', async (t) => {
  const c = await createCompany({ name: 'Sparse Co', domain: 'sparse.example', employees: 12 });
  const res = await get(c.id, { fields: 'name,employees' });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { id: c.id, name: 'Sparse Co', employees: 12 });
  t.equal(res.headers.etag, '"1"', 'the ETag survives a sparse fieldset');

  const list = await h.request({ method: 'GET', url: '/v1/companies', headers: admin.auth, query: { fields: 'domain', 'filter[id][eq]': c.id } });
  t.same(list.json().data, [{ id: c.id, domain: 'sparse.example' }], 'lists take fields= too');

  const unknown = await get(c.id, { fields: 'name,password' });
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json(), { code: 'validation_failed', errors: [{ path: 'fields', message: /password/ }] });
});

t.test('PATCH is a JSON merge patch: absent stays, null clears, address merges key by key', async (t) => {
  const c = await createCompany({
    name: 'Merge Co', industry: 'energy', employees: 40, phone: '+966112345678', tags: ['a', 'b'],
    address: { line1: '1 King Rd', city: 'Riyadh', country: 'SA' }, externalIds: { shopify: '1', hubspot: '2' },
  });
  const res = await patch(c.id, {
    industry: null, tags: ['c'], address: { city: 'Jeddah', line1: null, postalCode: '21577' }, externalIds: { hubspot: null },
  });
  t.equal(res.statusCode, 200);
  const p = res.json();
  t.equal(p.name, 'Merge Co', 'absent fields stay');
  t.equal(p.employees, 40);
  t.equal(p.phone, '+966112345678');
  t.equal(p.industry, null, 'null clears');
  t.same(p.tags, ['c'], 'arrays are replaced, not merged');
  t.same(p.address, { city: 'Jeddah', country: 'SA', postalCode: '21577' }, 'address merges; a null key is removed');
  t.same(p.externalIds, { shopify: '1' });
  t.equal(p.version, 2, 'version +1');
  t.equal(res.headers.etag, '"2"');
  t.ok(p.updatedAt >= c.updatedAt);
  t.same((await get(c.id)).json(), p, 'what PATCH answered is what is stored');

  const cleared = await patch(c.id, { address: null });
  t.equal(cleared.json().address, null, 'null clears a whole object field');
});

t.test('PATCH normalises like create and refuses what create refuses', async (t) => {
  const c = await createCompany({ name: 'Normal Co' });
  const ok = await patch(c.id, { domain: 'Normal.EXAMPLE', phone: '0112345678', annualRevenue: '10', currency: 'KWD' });
  t.match(ok.json(), { domain: 'normal.example', phone: '+966112345678', annualRevenue: '10.000' });

  for (const [body, path, message] of [
    [{ version: 9 }, 'version', /read-only/],
    [{ id: randomUUID() }, 'id', /read-only/],
    [{ website: 'x' }, 'website', /not a known field/],
    [{ phone: 'call me' }, 'phone', /phone/],
    [{ name: null }, 'name', /./],
    [{ custom: { tier: 'gold' } }, 'custom.tier', /not a defined custom field/],
  ] as const) {
    const res = await patch(c.id, body);
    t.equal(res.statusCode, 400, `${path} refused`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path, message }] });
  }
  const after = await get(c.id);
  t.equal(after.json().version, 2, 'refused patches changed nothing');
});

t.test('application/merge-patch+json is accepted', async (t) => {
  const c = await createCompany({ name: 'Typed Patch', employees: 5 });
  const res = await h.request({
    method: 'PATCH', url: `/v1/companies/${c.id}`,
    headers: { ...admin.auth, 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify({ employees: null, industry: 'media' }),
  });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { employees: null, industry: 'media', version: 2 });
});

t.test('If-Match: a stale version is 412 version_conflict with the current record; a matching one applies', async (t) => {
  const c = await createCompany({ name: 'Versioned', employees: 1 });
  await patch(c.id, { employees: 2 });

  const stale = await patch(c.id, { employees: 3 }, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  const body = stale.json();
  t.match(body, { code: 'version_conflict', status: 412 });
  t.match(body.current, { id: c.id, version: 2, employees: 2, name: 'Versioned' }, 'the body carries the current record');
  t.equal((await get(c.id)).json().employees, 2, 'the stale write changed nothing');

  const fresh = await patch(c.id, { employees: 3 }, { 'if-match': '"2"' });
  t.equal(fresh.statusCode, 200);
  t.match(fresh.json(), { employees: 3, version: 3 });
  t.equal(fresh.headers.etag, '"3"');

  const weak = await patch(c.id, { employees: 4 }, { 'if-match': 'W/"3"' });
  t.equal(weak.statusCode, 200, 'a weak ETag is read the same');

  const junk = await patch(c.id, { employees: 5 }, { 'if-match': 'yesterday' });
  t.equal(junk.statusCode, 400);
  t.match(junk.json(), { errors: [{ path: 'If-Match' }] });
});

t.test('a patch that changes nothing keeps the version', async (t) => {
  const c = await createCompany({ name: 'Same Same', domain: 'same.example', address: { city: 'Riyadh' } });
  const res = await patch(c.id, { name: 'Same Same', domain: 'SAME.example', address: { city: 'Riyadh' } });
  t.equal(res.statusCode, 200);
  t.equal(res.json().version, 1);
  t.equal(res.json().updatedAt, c.updatedAt);
  t.equal(res.headers.etag, '"1"');
  const empty = await patch(c.id, {});
  t.equal(empty.json().version, 1, 'an empty patch too');
});

t.test('PATCH of an unknown or deleted company is 404', async (t) => {
  const unknown = await patch(randomUUID(), { name: 'Ghost' });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'not_found');

  const c = await createCompany({ name: 'Deleted Before Patch' });
  await h.request({ method: 'DELETE', url: `/v1/companies/${c.id}`, headers: admin.auth });
  const gone = await patch(c.id, { name: 'Back?' });
  t.equal(gone.statusCode, 404);
});

t.test('delete is soft: 204, then 404, out of lists, visible to admin and manager with includeDeleted', async (t) => {
  const c = await createCompany({ name: 'Doomed Co', tags: ['doomed'] });
  const del = await h.request({ method: 'DELETE', url: `/v1/companies/${c.id}`, headers: admin.auth });
  t.equal(del.statusCode, 204);
  t.equal(del.body, '');

  t.equal((await get(c.id)).statusCode, 404);
  const again = await h.request({ method: 'DELETE', url: `/v1/companies/${c.id}`, headers: admin.auth });
  t.equal(again.statusCode, 404, 'deleting twice: the record is already gone');

  const byTag = { 'filter[tags][contains]': 'doomed' };
  const list = await h.request({ method: 'GET', url: '/v1/companies', headers: admin.auth, query: byTag });
  t.same(list.json().data, [], 'lists exclude it');
  const count = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: byTag });
  t.equal(count.json().count, 0, 'counts too');

  for (const who of [admin, manager]) {
    const withDeleted = await h.request({ method: 'GET', url: '/v1/companies', headers: who.auth, query: { ...byTag, includeDeleted: 'true' } });
    t.equal(withDeleted.statusCode, 200);
    t.same(withDeleted.json().data.map((x: { id: string }) => x.id), [c.id], `${who.role} sees it with includeDeleted`);
    t.match(withDeleted.json().data[0].deletedAt, /Z$/);
    const one = await get(c.id, { includeDeleted: 'true' }, who);
    t.equal(one.statusCode, 200);
    t.equal(one.json().version, 2, 'deleting is a change: version +1');
    const n = await h.request({ method: 'GET', url: '/v1/companies/count', headers: who.auth, query: { ...byTag, includeDeleted: 'true' } });
    t.equal(n.json().count, 1);
  }

  const salesList = await h.request({ method: 'GET', url: '/v1/companies', headers: sales.auth, query: { ...byTag, includeDeleted: 'true' } });
  t.equal(salesList.statusCode, 403);
  t.equal(salesList.json().code, 'forbidden');
  t.equal((await get(c.id, { includeDeleted: 'true' }, sales)).statusCode, 403);
  const salesCount = await h.request({ method: 'GET', url: '/v1/companies/count', headers: sales.auth, query: { includeDeleted: 'true' } });
  t.equal(salesCount.statusCode, 403);
});

t.test('restore: admin and manager get 200 with the live record; sales 403', async (t) => {
  const c = await createCompany({ name: 'Phoenix Co' });
  await h.request({ method: 'DELETE', url: `/v1/companies/${c.id}`, headers: admin.auth });

  const bySales = await h.request({ method: 'POST', url: `/v1/companies/${c.id}/restore`, headers: sales.auth });
  t.equal(bySales.statusCode, 403);
  t.equal(bySales.json().code, 'forbidden');
  t.equal((await get(c.id)).statusCode, 404, 'still deleted');

  const res = await h.request({ method: 'POST', url: `/v1/companies/${c.id}/restore`, headers: manager.auth });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { id: c.id, name: 'Phoenix Co', deletedAt: null, version: 3 });
  t.equal(res.headers.etag, '"3"');
  t.equal((await get(c.id)).statusCode, 200, 'readable again');

  const twice = await h.request({ method: 'POST', url: `/v1/companies/${c.id}/restore`, headers: admin.auth });
  t.equal(twice.statusCode, 200, 'restoring a live record answers it unchanged');
  t.equal(twice.json().version, 3);

  const unknown = await h.request({ method: 'POST', url: `/v1/companies/${randomUUID()}/restore`, headers: admin.auth });
  t.equal(unknown.statusCode, 404);
});
