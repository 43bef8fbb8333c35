import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// mergeContacts and mergeCompanies over GraphQL: the same service as REST, so the same moves,
// refusals and codes; a merged id read through contact(id) / company(id) carries mergedIntoId.

const h = await startTestApp({ env: { DEFAULT_PHONE_REGION: 'SA' } });
t.teardown(() => h.close());
const admin = h.user('admin');
const viewer = h.user('viewer');
const sales = h.user('sales', { teamIds: [randomUUID()] });
const uniq = () => randomUUID().slice(0, 8);

async function created(url: string, body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`POST ${url} failed: ${res.body}`);
  return res.json();
}

const MERGE_CONTACTS = `mutation($p: ID!, $d: [ID!]!) { mergeContacts(primaryId: $p, duplicateIds: $d) {
  id version firstName lastName email phone additionalEmails tags externalIds } }`;
const MERGE_COMPANIES = `mutation($p: ID!, $d: [ID!]!) { mergeCompanies(primaryId: $p, duplicateIds: $d) { id version name domain industry tags } }`;

t.test('mergeContacts returns the survivor; the duplicate answers not_found with mergedIntoId', async (t) => {
  const u = uniq();
  const p = await created('/v1/contacts', { firstName: 'Omar', email: `omar.${u}@example.com` });
  const d = await created('/v1/contacts', { firstName: 'عمر', lastName: 'Haddad', email: `o.haddad.${u}@example.com`, phone: '0559998888', tags: ['lead'], externalIds: { crm: `X${u}` } });
  const act = await created('/v1/activities', { type: 'call', subject: 'hello', contactId: d.id });

  const res = await h.gql(admin, MERGE_CONTACTS, { p: p.id, d: [d.id] });
  t.equal(res.status, 200);
  t.notOk(res.body.errors);
  t.same(res.body.data?.mergeContacts, {
    id: p.id, version: 2, firstName: 'Omar', lastName: 'Haddad', email: `omar.${u}@example.com`, phone: '+966559998888',
    additionalEmails: [`o.haddad.${u}@example.com`], tags: ['lead'], externalIds: { crm: `X${u}` },
  });
  const moved = await h.request({ method: 'GET', url: `/v1/activities/${act.id}`, headers: admin.auth });
  t.equal(moved.json().contactId, p.id, 'links moved as over REST');

  const gone = await h.gql(admin, `query($id: ID!) { contact(id: $id) { id } }`, { id: d.id });
  t.equal(gone.body.errors?.[0]?.extensions.code, 'not_found');
  t.equal(gone.body.errors?.[0]?.extensions.mergedIntoId, p.id, 'GraphQL errors carry mergedIntoId too');

  const again = await h.gql(admin, MERGE_CONTACTS, { p: p.id, d: [d.id] });
  t.equal(again.body.errors?.[0]?.extensions.code, 'conflict');
  t.equal(again.body.errors?.[0]?.extensions.status, 409);
  t.equal(again.body.errors?.[0]?.extensions.mergedIntoId, p.id);
});

t.test('refusals: roles, validation, itself, missing', async (t) => {
  const a = await created('/v1/contacts', { firstName: `A${uniq()}` });
  const b = await created('/v1/contacts', { firstName: `B${uniq()}` });
  const code = async (who: typeof admin, query: string, v: Record<string, unknown>) => (await h.gql(who, query, v)).body.errors?.[0]?.extensions;

  t.equal((await code(viewer, MERGE_CONTACTS, { p: a.id, d: [b.id] }))?.code, 'forbidden', 'viewer');
  t.equal((await code(sales, MERGE_CONTACTS, { p: a.id, d: [b.id] }))?.code, 'forbidden', "sales on others' contacts");
  const empty = await code(admin, MERGE_CONTACTS, { p: a.id, d: [] });
  t.equal(empty?.code, 'validation_failed');
  t.equal(empty?.errors?.[0]?.path, 'duplicateIds');
  t.equal((await code(admin, MERGE_CONTACTS, { p: a.id, d: Array.from({ length: 11 }, () => randomUUID()) }))?.code, 'validation_failed', 'at most 10');
  t.equal((await code(admin, MERGE_CONTACTS, { p: 'x', d: [b.id] }))?.code, 'validation_failed', 'ids are UUIDs');
  t.equal((await code(admin, MERGE_CONTACTS, { p: a.id, d: [a.id] }))?.code, 'conflict', 'itself');
  t.equal((await code(admin, MERGE_CONTACTS, { p: a.id, d: [randomUUID()] }))?.code, 'not_found');
  const check = await h.request({ method: 'GET', url: `/v1/contacts/${b.id}`, headers: admin.auth });
  t.equal(check.statusCode, 200, 'no refused merge changed anything');
  t.equal(check.json().version, 1);
});

t.test('mergeCompanies moves contacts and fills fields; company(id) on the duplicate says where it went', async (t) => {
  const u = uniq();
  const p = await created('/v1/companies', { name: `Nile ${u}` });
  const d = await created('/v1/companies', { name: `Nile ${u} Co`, domain: `nile-${u}.example`, industry: 'logistics', tags: ['eg'] });
  const c = await created('/v1/contacts', { firstName: 'Mona', companyId: d.id });
  const res = await h.gql(admin, MERGE_COMPANIES, { p: p.id, d: [d.id] });
  t.notOk(res.body.errors);
  t.same(res.body.data?.mergeCompanies, { id: p.id, version: 2, name: `Nile ${u}`, domain: `nile-${u}.example`, industry: 'logistics', tags: ['eg'] });
  const contact = await h.gql(admin, `query($id: ID!) { contact(id: $id) { companyId } }`, { id: c.id });
  t.equal(contact.body.data?.contact.companyId, p.id);
  const gone = await h.gql(admin, `query($id: ID!) { company(id: $id) { id } }`, { id: d.id });
  t.match(gone.body.errors?.[0]?.extensions, { code: 'not_found', mergedIntoId: p.id });
  t.equal((await h.gql(viewer, MERGE_COMPANIES, { p: p.id, d: [d.id] })).body.errors?.[0]?.extensions.code, 'forbidden');
});
