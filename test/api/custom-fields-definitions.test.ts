import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import type { Role } from '../../src/platform/auth/actor.js';

// Custom-field definitions (API.md §5): REST and GraphQL CRUD, the fixed fields, and the `config`
// permissions (admin and manager write, every role reads).

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const post = (user: { auth: Record<string, string> }, payload: unknown) =>
  h.request({ method: 'POST', url: '/v1/custom-fields', headers: user.auth, payload: payload as object });

t.test('create, read, list by entity, patch, delete over REST', async (t) => {
  const res = await post(admin, { entity: 'company', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] });
  t.equal(res.statusCode, 201, res.body);
  const f = res.json();
  t.match(f, { entity: 'company', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'], required: false, unique: false, version: 1, deletedAt: null });
  t.equal(res.headers.location, `/v1/custom-fields/${f.id}`);
  t.equal(res.headers.etag, '"1"');

  const other = await post(admin, { entity: 'contact', key: 'tier', label: 'Contact tier', type: 'text' });
  t.equal(other.statusCode, 201, 'the same key on another entity is another field');

  const got = await h.request({ method: 'GET', url: `/v1/custom-fields/${f.id}`, headers: admin.auth });
  t.equal(got.statusCode, 200);
  t.same(got.json(), f);

  const listed = await h.request({ method: 'GET', url: '/v1/custom-fields', headers: admin.auth, query: { 'filter[entity][eq]': 'company', 'filter[key][eq]': 'tier' } });
  t.equal(listed.statusCode, 200, listed.body);
  t.same(listed.json().data.map((d: { id: string }) => d.id), [f.id]);

  const patched = await h.request({
    method: 'PATCH', url: `/v1/custom-fields/${f.id}`, headers: { ...admin.auth, 'if-match': '"1"' },
    payload: { label: 'Customer tier', options: ['gold', 'silver', 'bronze'], required: true },
  });
  t.equal(patched.statusCode, 200, patched.body);
  t.match(patched.json(), { label: 'Customer tier', options: ['gold', 'silver', 'bronze'], required: true, version: 2 });

  const stale = await h.request({ method: 'PATCH', url: `/v1/custom-fields/${f.id}`, headers: { ...admin.auth, 'if-match': '"1"' }, payload: { label: 'x' } });
  t.equal(stale.statusCode, 412);

  const del = await h.request({ method: 'DELETE', url: `/v1/custom-fields/${f.id}`, headers: admin.auth });
  t.equal(del.statusCode, 204);
  const gone = await h.request({ method: 'GET', url: `/v1/custom-fields/${f.id}`, headers: admin.auth });
  t.equal(gone.statusCode, 404);
  const afterDelete = await h.request({ method: 'GET', url: '/v1/custom-fields', headers: admin.auth, query: { 'filter[entity][eq]': 'company', 'filter[key][eq]': 'tier' } });
  t.same(afterDelete.json().data, []);
  const withDeleted = await h.request({ method: 'GET', url: '/v1/custom-fields', headers: admin.auth, query: { 'filter[entity][eq]': 'company', 'filter[key][eq]': 'tier', includeDeleted: 'true' } });
  t.same(withDeleted.json().data.map((d: { id: string }) => d.id), [f.id]);

  const again = await post(admin, { entity: 'company', key: 'tier', label: 'Tier again', type: 'number' });
  t.equal(again.statusCode, 201, 'a deleted definition frees its key');
});

t.test('a key is unique per entity among live definitions: 409', async (t) => {
  t.equal((await post(admin, { entity: 'deal', key: 'region', label: 'Region', type: 'text' })).statusCode, 201);
  const dup = await post(admin, { entity: 'deal', key: 'region', label: 'Region 2', type: 'text' });
  t.equal(dup.statusCode, 409);
  t.equal(dup.json().code, 'conflict');
});

t.test('bad definitions are refused with dotted paths', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ entity: 'company', key: 'Tier', label: 'x', type: 'text' }, 'key'],
    [{ entity: 'company', key: '1tier', label: 'x', type: 'text' }, 'key'],
    [{ entity: 'company', key: 'a'.repeat(51), label: 'x', type: 'text' }, 'key'],
    [{ entity: 'planet', key: 'ok', label: 'x', type: 'text' }, 'entity'],
    [{ entity: 'company', key: 'ok', label: 'x', type: 'colour' }, 'type'],
    [{ entity: 'company', key: 'ok', label: 'x', type: 'select' }, 'options'],
    [{ entity: 'company', key: 'ok', label: 'x', type: 'multiselect', options: [] }, 'options'],
    [{ entity: 'company', key: 'ok', label: 'x', type: 'text', options: ['a'] }, 'options'],
    [{ entity: 'company', key: 'ok', label: 'x', type: 'select', options: ['a', 'a'] }, 'options'],
    [{ entity: 'company', key: 'ok', label: 'x', type: 'boolean', unique: true }, 'unique'],
    [{ entity: 'company', key: 'ok', label: 'x', type: 'text', id: '0190a1b2-0000-7000-8000-000000000001' }, ''],
  ];
  for (const [payload, path] of cases) {
    const res = await post(admin, payload);
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.equal(res.json().code, 'validation_failed');
    if (path) t.ok(res.json().errors.some((e: { path: string }) => e.path === path), `${path} named for ${JSON.stringify(payload)}: ${res.body}`);
  }
});

t.test('type, key, entity and unique cannot change after creation (400)', async (t) => {
  const f = (await post(admin, { entity: 'company', key: 'fixed_one', label: 'Fixed', type: 'text' })).json();
  for (const body of [{ type: 'number' }, { key: 'renamed' }, { entity: 'contact' }, { unique: true }]) {
    const res = await h.request({ method: 'PATCH', url: `/v1/custom-fields/${f.id}`, headers: admin.auth, payload: body });
    t.equal(res.statusCode, 400, JSON.stringify(body));
  }
  const gql = await h.gql(admin, 'mutation($id: ID!) { updateCustomField(id: $id, input: { label: "ok" }) { label type key version } }', { id: f.id });
  t.same(gql.body.data?.updateCustomField, { label: 'ok', type: 'text', key: 'fixed_one', version: 2 });
  const options = await h.request({ method: 'PATCH', url: `/v1/custom-fields/${f.id}`, headers: admin.auth, payload: { options: ['a'] } });
  t.equal(options.statusCode, 400, 'options stay refused for a text field');
  const read = (await h.request({ method: 'GET', url: `/v1/custom-fields/${f.id}`, headers: admin.auth })).json();
  t.match(read, { type: 'text', key: 'fixed_one', entity: 'company', unique: false, options: [] });
});

t.test('roles: admin and manager write, every role reads, others get 403 on every write', async (t) => {
  const seed = (await post(admin, { entity: 'lead', key: 'role_probe', label: 'Probe', type: 'text' })).json();
  const roles: Role[] = ['admin', 'manager', 'sales', 'support', 'marketing', 'viewer'];
  for (const role of roles) {
    const u = h.user(role);
    const writes = role === 'admin' || role === 'manager';
    const read = await h.request({ method: 'GET', url: `/v1/custom-fields/${seed.id}`, headers: u.auth });
    t.equal(read.statusCode, 200, `${role} reads`);
    const list = await h.request({ method: 'GET', url: '/v1/custom-fields', headers: u.auth, query: { 'filter[key][eq]': 'role_probe' } });
    t.equal(list.json().data.length, 1, `${role} lists`);
    const gqlRead = await h.gql(u, 'query { customFields(entity: lead) { key } }');
    t.ok(gqlRead.body.data?.customFields.some((f: { key: string }) => f.key === 'role_probe'), `${role} reads over GraphQL`);

    const created = await post(u, { entity: 'lead', key: `by_${role}`, label: role, type: 'text' });
    t.equal(created.statusCode, writes ? 201 : 403, `${role} create`);
    const patched = await h.request({ method: 'PATCH', url: `/v1/custom-fields/${seed.id}`, headers: u.auth, payload: { label: `by ${role}` } });
    t.equal(patched.statusCode, writes ? 200 : 403, `${role} patch`);
    const gqlCreate = await h.gql(u, `mutation { createCustomField(input: { entity: lead, key: "g_${role}", label: "x", type: text }) { key } }`);
    if (writes) t.equal(gqlCreate.body.data?.createCustomField.key, `g_${role}`);
    else t.equal(gqlCreate.body.errors?.[0]?.extensions.code, 'forbidden', `${role} GraphQL create`);
    if (!writes) {
      const del = await h.request({ method: 'DELETE', url: `/v1/custom-fields/${seed.id}`, headers: u.auth });
      t.equal(del.statusCode, 403, `${role} delete`);
      const gqlDel = await h.gql(u, 'mutation($id: ID!) { deleteCustomField(id: $id) }', { id: seed.id });
      t.equal(gqlDel.body.errors?.[0]?.extensions.code, 'forbidden');
    }
  }
  const still = await h.request({ method: 'GET', url: `/v1/custom-fields/${seed.id}`, headers: admin.auth });
  t.equal(still.statusCode, 200, 'no refused delete went through');
  t.equal(still.json().label, 'by manager', 'the last permitted patch is the one kept');
  const anon = await h.request({ method: 'GET', url: '/v1/custom-fields' });
  t.equal(anon.statusCode, 401);
});

t.test('GraphQL: create, read, list, update, delete', async (t) => {
  const created = await h.gql(admin, `mutation { createCustomField(input: { entity: ticket, key: "severity", label: "Severity", type: multiselect, options: ["a", "b"], required: true }) {
    id entity key label type options required unique version } }`);
  const f = created.body.data?.createCustomField;
  t.match(f, { entity: 'ticket', key: 'severity', type: 'multiselect', options: ['a', 'b'], required: true, unique: false, version: 1 });
  const one = await h.gql(admin, 'query($id: ID!) { customField(id: $id) { key label } }', { id: f.id });
  t.same(one.body.data?.customField, { key: 'severity', label: 'Severity' });
  const list = await h.gql(admin, 'query { customFields(entity: ticket) { id } }');
  t.same(list.body.data?.customFields.map((x: { id: string }) => x.id), [f.id]);
  const upd = await h.gql(admin, 'mutation($id: ID!) { updateCustomField(id: $id, input: { options: ["a", "b", "c"] }, expectedVersion: 1) { options version } }', { id: f.id });
  t.same(upd.body.data?.updateCustomField, { options: ['a', 'b', 'c'], version: 2 });
  const stale = await h.gql(admin, 'mutation($id: ID!) { updateCustomField(id: $id, input: { label: "x" }, expectedVersion: 1) { version } }', { id: f.id });
  t.equal(stale.body.errors?.[0]?.extensions.code, 'version_conflict');
  const bad = await h.gql(admin, 'mutation { createCustomField(input: { entity: ticket, key: "Bad", label: "x", type: text }) { id } }');
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  const del = await h.gql(admin, 'mutation($id: ID!) { deleteCustomField(id: $id) }', { id: f.id });
  t.equal(del.body.data?.deleteCustomField, true);
  const after = await h.gql(admin, 'query($id: ID!) { customField(id: $id) { id } }', { id: f.id });
  t.equal(after.body.errors?.[0]?.extensions.code, 'not_found');
});
