import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// `unique` custom fields are enforced by the database (a partial unique index per definition):
// duplicates are 409 on create, patch and batch, concurrent writers of one value make one record,
// deleted records free their value, and deleting the definition lifts the rule.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const define = async (payload: Record<string, unknown>) => {
  const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'company', label: 'x', ...payload } });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json() as { id: string };
};
const create = (name: string, custom: Record<string, unknown>) =>
  h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name, custom } });

const vat = await define({ key: 'vat_no', type: 'text', unique: true });
await define({ key: 'billing_email', type: 'email', unique: true });

t.test('a duplicate value is 409 conflict naming custom.<key>; other values and absent values pass', async (t) => {
  t.equal((await create('V1', { vat_no: 'SA-1' })).statusCode, 201);
  const dup = await create('V2', { vat_no: 'SA-1' });
  t.equal(dup.statusCode, 409);
  t.equal(dup.json().code, 'conflict');
  t.same(dup.json().errors, [{ path: 'custom.vat_no', message: 'is already taken' }]);
  t.equal((await create('V3', { vat_no: 'SA-2' })).statusCode, 201);
  t.equal((await create('V4', {})).statusCode, 201, 'absent values never collide');
  t.equal((await create('V5', {})).statusCode, 201);
});

t.test('uniqueness compares normalised values (email case)', async (t) => {
  t.equal((await create('E1', { billing_email: 'Pay@Example.com' })).statusCode, 201);
  const dup = await create('E2', { billing_email: 'pay@EXAMPLE.com' });
  t.equal(dup.statusCode, 409);
  t.same(dup.json().errors, [{ path: 'custom.billing_email', message: 'is already taken' }]);
});

t.test('patch and batch hit the same index', async (t) => {
  const other = (await create('P1', { vat_no: 'SA-P1' })).json();
  t.equal((await create('P2', { vat_no: 'SA-P2' })).statusCode, 201);
  const patch = await h.request({ method: 'PATCH', url: `/v1/companies/${other.id}`, headers: admin.auth, payload: { custom: { vat_no: 'SA-P2' } } });
  t.equal(patch.statusCode, 409);
  const batch = await h.request({
    method: 'POST', url: '/v1/companies/batch', headers: admin.auth,
    payload: { operation: 'create', records: [{ name: 'B1', custom: { vat_no: 'SA-B' } }, { name: 'B2', custom: { vat_no: 'SA-B' } }] },
  });
  const [b1, b2] = batch.json().results;
  t.equal(b1.status, 'created');
  t.equal(b2.status, 'error');
  t.equal(b2.error.code, 'conflict');
  const gql = await h.gql(admin, 'mutation { createCompany(input: { name: "G", custom: { vat_no: "SA-B" } }) { id } }');
  t.equal(gql.body.errors?.[0]?.extensions.code, 'conflict');
});

t.test('concurrent creates of one value: exactly one record', async (t) => {
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => create(`C${i}`, { vat_no: 'SA-RACE' })));
  const codes = results.map((r) => r.statusCode).sort();
  t.same(codes, [201, 409, 409, 409, 409, 409, 409, 409]);
  const found = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { 'filter[custom.vat_no][eq]': 'SA-RACE' } });
  t.same(found.json(), { count: 1 });
});

t.test('a deleted record frees its value', async (t) => {
  const first = (await create('D1', { vat_no: 'SA-DEL' })).json();
  await h.request({ method: 'DELETE', url: `/v1/companies/${first.id}`, headers: admin.auth });
  t.equal((await create('D2', { vat_no: 'SA-DEL' })).statusCode, 201);
});

t.test('a unique definition over existing duplicates is refused (409) and leaves nothing behind', async (t) => {
  await define({ key: 'branch', type: 'text' });
  t.equal((await create('X1', { branch: 'riyadh' })).statusCode, 201);
  t.equal((await create('X2', { branch: 'riyadh' })).statusCode, 201);
  const list = await h.request({ method: 'GET', url: '/v1/custom-fields', headers: admin.auth, query: { 'filter[key][eq]': 'branch' } });
  const branch = list.json().data[0];
  await h.request({ method: 'DELETE', url: `/v1/custom-fields/${branch.id}`, headers: admin.auth });
  const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'company', key: 'branch', label: 'Branch', type: 'text', unique: true } });
  t.equal(res.statusCode, 409, res.body);
  const after = await h.request({ method: 'GET', url: '/v1/custom-fields', headers: admin.auth, query: { 'filter[key][eq]': 'branch' } });
  t.same(after.json().data, [], 'the definition rolled back with its index');
});

t.test('deleting the definition drops the rule with it', async (t) => {
  await h.request({ method: 'DELETE', url: `/v1/custom-fields/${vat.id}`, headers: admin.auth });
  await define({ key: 'vat_no', type: 'text' });
  t.equal((await create('After', { vat_no: 'SA-1' })).statusCode, 201, 'a non-unique field of the same key allows duplicates');
});

t.test('unique works on every entity with custom fields, tickets included', async (t) => {
  const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'ticket', key: 'ext_ref', label: 'x', type: 'text', unique: true } });
  t.equal(res.statusCode, 201);
  const requester = (await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: 'Req' } })).json();
  const ticket = (ref: string) => h.request({ method: 'POST', url: '/v1/tickets', headers: admin.auth, payload: { subject: 'S', requesterId: requester.id, custom: { ext_ref: ref } } });
  t.equal((await ticket('T-1')).statusCode, 201);
  const dup = await ticket('T-1');
  t.equal(dup.statusCode, 409, 'a second ticket with the same value is refused');
  t.match(dup.json(), { code: 'conflict', errors: [{ path: 'custom.ext_ref' }] });
  t.equal((await ticket('T-2')).statusCode, 201);
});
