import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// One contact over REST (API.md §5 Customer, §3, §5b): create with normalisation and defaults,
// validation, references, uniqueness of email and external ids, patch with If-Match, delete, restore.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const post = (body: unknown, who = admin, headers: Record<string, string> = {}) =>
  h.request({ method: 'POST', url: '/v1/contacts', headers: { ...who.auth, ...headers }, payload: body as object });
const get = (id: string, query: Record<string, string> = {}, who = admin) =>
  h.request({ method: 'GET', url: `/v1/contacts/${id}`, headers: who.auth, query });
const patch = (id: string, body: unknown, headers: Record<string, string> = {}, who = admin) =>
  h.request({ method: 'PATCH', url: `/v1/contacts/${id}`, headers: { ...who.auth, ...headers }, payload: body as object });
const del = (id: string, who = admin) => h.request({ method: 'DELETE', url: `/v1/contacts/${id}`, headers: who.auth });
const restore = (id: string, who = admin) => h.request({ method: 'POST', url: `/v1/contacts/${id}/restore`, headers: who.auth });

async function create(body: Record<string, unknown>) {
  const res = await post(body);
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const paths = (res: { json(): { errors?: { path: string }[] } }) => (res.json().errors ?? []).map((e) => e.path).sort();

t.test('create normalises email and phones, applies defaults and answers 201 with Location and ETag', async (t) => {
  const team = randomUUID();
  const who = h.user('marketing', { teamIds: [team] });
  const res = await post({
    firstName: ' Ana ', lastName: 'Lima', email: ' Ana.Lima@Example.COM ', phone: '0501234567',
    additionalEmails: ['ANA@Work.example'], additionalPhones: ['+44 20 7946 0958'], lifecycleStage: 'lead',
    tags: ['vip'], address: { city: 'Jeddah', country: 'SA' }, externalIds: { shopify: '8812' }, emailOptIn: true,
  }, who);
  t.equal(res.statusCode, 201);
  const c = res.json();
  t.equal(res.headers.location, `/v1/contacts/${c.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(c, {
    firstName: 'Ana', lastName: 'Lima', email: 'ana.lima@example.com', phone: '+966501234567',
    additionalEmails: ['ana@work.example'], additionalPhones: ['+442079460958'], lifecycleStage: 'lead',
    externalIds: { shopify: '8812' }, emailOptIn: true, smsOptIn: false, version: 1, deletedAt: null,
    ownerId: who.id, teamId: team, custom: {}, companyId: null, jobTitle: null,
  });
  t.notOk('searchText' in c, 'the search column is internal');
  t.same((await get(c.id)).json(), c, 'read answers the stored record bare');
});

t.test('a contact needs one of firstName, lastName, email, phone', async (t) => {
  const none = await post({ jobTitle: 'Nobody', tags: ['x'] });
  t.equal(none.statusCode, 400);
  t.match(none.json(), { code: 'validation_failed', errors: [{ path: '(root)' }] });
  for (const only of [{ firstName: 'Solo' }, { lastName: 'Solo' }, { email: 'solo@example.com' }, { phone: '+14155552671' }]) {
    t.equal((await post(only)).statusCode, 201, JSON.stringify(only));
  }
  const c = await create({ firstName: 'Only Name' });
  const cleared = await patch(c.id, { firstName: null });
  t.equal(cleared.statusCode, 400, 'a patch may not clear the last identifying field');
  t.equal((await get(c.id)).json().firstName, 'Only Name');
});

t.test('validation: unknown and read-only fields, bad email, phone, stage, custom value — every bad field listed', async (t) => {
  const shape = await post({ firstName: 'V', email: 'not-an-email', lifecycleStage: 'prospect', website: 'x', version: 3, additionalEmails: ['nope'] });
  t.equal(shape.statusCode, 400);
  t.same(paths(shape), ['additionalEmails.0', 'email', 'lifecycleStage', 'version', 'website']);
  t.match(shape.json().errors.find((e: { path: string }) => e.path === 'version'), { message: 'is read-only' });
  t.match(shape.json().errors.find((e: { path: string }) => e.path === 'website'), { message: 'is not a known field' });

  const checks = await post({ firstName: 'V', phone: '12', additionalPhones: ['+966501234567', 'abc'], custom: { tier: 'gold' } });
  t.equal(checks.statusCode, 400);
  t.same(paths(checks), ['additionalPhones.1', 'custom.tier', 'phone']);

  const ids = await post({ firstName: 'V', externalIds: { 'Bad System': '1' } });
  t.equal(ids.statusCode, 400);
  t.match(paths(ids), [/^externalIds\./]);
  const count = await h.request({ method: 'GET', url: '/v1/contacts/count', headers: admin.auth, query: { 'filter[firstName][eq]': 'V' } });
  t.equal(count.json().count, 0, 'nothing written');
});

t.test('companyId must name a live company: 422 invalid_reference otherwise', async (t) => {
  const company = (await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: 'Ref Co' } })).json();
  const ok = await post({ firstName: 'Ref', companyId: company.id });
  t.equal(ok.statusCode, 201);
  t.equal(ok.json().companyId, company.id);

  const missing = await post({ firstName: 'Ref', companyId: randomUUID() });
  t.equal(missing.statusCode, 422);
  t.match(missing.json(), { code: 'invalid_reference', errors: [{ path: 'companyId' }] });

  await h.request({ method: 'DELETE', url: `/v1/companies/${company.id}`, headers: admin.auth });
  const deleted = await patch(ok.json().id, { companyId: company.id, jobTitle: 'CTO' });
  t.equal(deleted.statusCode, 200, 'an unchanged reference to a since-deleted company does not block other changes');
  const moved = await post({ firstName: 'Ref', companyId: company.id });
  t.equal(moved.statusCode, 422, 'a deleted company cannot be newly referenced');
});

t.test('email is unique among live contacts, case-insensitively; deleting frees it', async (t) => {
  const first = await create({ email: 'dup@example.com' });
  const again = await post({ email: 'DUP@example.com' });
  t.equal(again.statusCode, 409);
  t.match(again.json(), { code: 'conflict', errors: [{ path: 'email' }] });
  const other = await create({ email: 'dup2@example.com' });
  t.equal((await patch(other.id, { email: 'Dup@Example.com' })).statusCode, 409, 'a patch cannot take it either');

  t.equal((await del(first.id)).statusCode, 204);
  const reborn = await post({ email: 'dup@example.com' });
  t.equal(reborn.statusCode, 201);
  const back = await restore(first.id);
  t.equal(back.statusCode, 409, 'restoring would make two live contacts with one email');
});

t.test('externalIds are unique per system, enforced for create, patch, delete and restore', async (t) => {
  const a = await create({ firstName: 'Ext A', externalIds: { shop: 'x-1', erp: 'E1' } });
  const taken = await post({ firstName: 'Ext B', externalIds: { shop: 'x-1' } });
  t.equal(taken.statusCode, 409);
  t.match(taken.json(), { code: 'conflict', errors: [{ path: 'externalIds.shop' }] });
  const otherSystem = await post({ firstName: 'Ext B', externalIds: { pos: 'x-1' } });
  t.equal(otherSystem.statusCode, 201, 'the same id in another system is fine');
  const b = otherSystem.json();
  t.equal((await patch(b.id, { externalIds: { erp: 'E1' } })).statusCode, 409, 'a patch cannot take one');

  const freed = await patch(a.id, { externalIds: { shop: null } });
  t.same(freed.json().externalIds, { erp: 'E1' }, 'null removes one system (merge patch)');
  t.equal((await patch(b.id, { externalIds: { shop: 'x-1' } })).statusCode, 200, 'a removed id is free again');

  t.equal((await del(a.id)).statusCode, 204);
  const c = await create({ firstName: 'Ext C', externalIds: { erp: 'E1' } });
  t.equal((await restore(a.id)).statusCode, 409, 'restore re-claims the ids and refuses a taken one');
  t.equal((await del(c.id)).statusCode, 204);
  const restored = await restore(a.id);
  t.equal(restored.statusCode, 200);
  t.match(restored.json(), { deletedAt: null, externalIds: { erp: 'E1' } });
  t.equal((await post({ firstName: 'Ext D', externalIds: { erp: 'E1' } })).statusCode, 409, 'the restored record holds it again');
});

t.test('merge patch with If-Match: versions, 412 with the current record, no-op patches', async (t) => {
  const c = await create({ firstName: 'Patch', address: { city: 'Riyadh', country: 'SA' }, tags: ['a'] });
  const res = await patch(c.id, { lastName: 'Me', address: { line1: 'King Fahd Rd' }, tags: ['b'] }, { 'if-match': '"1"' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers.etag, '"2"');
  t.match(res.json(), { lastName: 'Me', address: { city: 'Riyadh', country: 'SA', line1: 'King Fahd Rd' }, tags: ['b'], version: 2 });

  const stale = await patch(c.id, { jobTitle: 'Late' }, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { id: c.id, version: 2 } });
  t.equal((await get(c.id)).json().jobTitle, null);

  const same = await patch(c.id, { lastName: 'Me' });
  t.equal(same.json().version, 2, 'a patch changing nothing keeps the version');
  const typed = await h.request({
    method: 'PATCH', url: `/v1/contacts/${c.id}`, headers: { ...admin.auth, 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify({ smsOptIn: true }),
  });
  t.match(typed.json(), { smsOptIn: true, version: 3 });
  t.equal((await patch(c.id, { createdAt: '2020-01-01T00:00:00.000Z' })).statusCode, 400, 'read-only in a patch');
});

t.test('delete is soft; restore is for admin and manager; deleted records read with includeDeleted', async (t) => {
  const c = await create({ firstName: 'Gone' });
  t.equal((await del(c.id)).statusCode, 204);
  t.equal((await get(c.id)).statusCode, 404);
  t.equal((await del(c.id)).statusCode, 404);
  const seen = await get(c.id, { includeDeleted: 'true' });
  t.match(seen.json(), { id: c.id, deletedAt: String });
  t.equal((await get(c.id, { includeDeleted: 'true' }, h.user('sales'))).statusCode, 403);
  t.equal((await restore(c.id, h.user('support'))).statusCode, 403);
  const back = await restore(c.id, h.user('manager'));
  t.equal(back.statusCode, 200);
  t.match(back.json(), { id: c.id, deletedAt: null, version: 3 });
});

t.test('Idempotency-Key: a replay answers the first response and writes once', async (t) => {
  const key = `contact-${randomUUID()}`;
  const body = { firstName: 'Idem', email: 'idem@example.com' };
  const first = await post(body, admin, { 'idempotency-key': key });
  const second = await post(body, admin, { 'idempotency-key': key });
  t.equal(first.statusCode, 201);
  t.equal(second.statusCode, 201);
  t.equal(second.headers['idempotent-replayed'], 'true');
  t.same(second.json(), first.json());
  const other = await post({ ...body, lastName: 'Else' }, admin, { 'idempotency-key': key });
  t.equal(other.statusCode, 422);
  t.equal(other.json().code, 'idempotency_key_reused');
  const count = await h.request({ method: 'GET', url: '/v1/contacts/count', headers: admin.auth, query: { 'filter[email][eq]': 'idem@example.com' } });
  t.equal(count.json().count, 1);
});
