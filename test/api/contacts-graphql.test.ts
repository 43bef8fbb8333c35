import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Contacts over POST /graphql: the same service, rules and codes as REST; relations through loaders.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

async function gql(query: string, variables?: Record<string, unknown>, who: ReturnType<typeof h.user> = admin) {
  const res = await h.gql(who, query, variables);
  const errors = res.body.errors ?? [];
  return { data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}
const FIELDS = 'id version firstName lastName email phone lifecycleStage companyId externalIds emailOptIn custom';
const CREATE = `mutation($input: ContactCreateInput!) { createContact(input: $input) { ${FIELDS} } }`;
async function create(input: Record<string, unknown>, who = admin) {
  const r = await gql(CREATE, { input }, who);
  if (!r.data?.createContact) throw new Error(`create failed: ${JSON.stringify(r.errors)}`);
  return r.data.createContact;
}
const tag = `gq-${randomUUID().slice(0, 8)}`;

t.test('createContact, contact(id), updateContact with expectedVersion, delete and restore', async (t) => {
  const c = await create({ firstName: 'Graph', email: 'Graph@Example.com', phone: '0501234567', lifecycleStage: 'lead', externalIds: { crm1: 'g-1' } });
  t.match(c, { version: 1, email: 'graph@example.com', phone: '+966501234567', lifecycleStage: 'lead', externalIds: { crm1: 'g-1' } });
  t.same((await gql(`query($id: ID!) { contact(id: $id) { ${FIELDS} } }`, { id: c.id })).data?.contact, c);

  const UPDATE = `mutation($id: ID!, $input: ContactPatchInput!, $v: Int) { updateContact(id: $id, input: $input, expectedVersion: $v) { version lastName } }`;
  t.match((await gql(UPDATE, { id: c.id, input: { lastName: 'QL' }, v: 1 })).data?.updateContact, { version: 2, lastName: 'QL' });
  const stale = await gql(UPDATE, { id: c.id, input: { lastName: 'Late' }, v: 1 });
  t.same(stale.codes, ['version_conflict']);

  t.equal((await gql('mutation($id: ID!) { deleteContact(id: $id) }', { id: c.id })).data?.deleteContact, true);
  t.same((await gql('query($id: ID!) { contact(id: $id) { id } }', { id: c.id })).codes, ['not_found']);
  t.match((await gql('mutation($id: ID!) { restoreContact(id: $id) { id deletedAt } }', { id: c.id })).data?.restoreContact, { id: c.id, deletedAt: null });
});

t.test('validation and roles carry the REST codes and paths', async (t) => {
  const bad = await gql(CREATE, { input: { firstName: 'Bad', email: 'nope', phone: '12', custom: { tier: 'x' } } });
  t.same(bad.codes, ['validation_failed']);
  t.same((bad.errors[0]?.extensions.errors ?? []).map((e) => e.path).sort(), ['email']);
  const checks = await gql(CREATE, { input: { firstName: 'Bad', phone: '12', custom: { tier: 'x' } } });
  t.same((checks.errors[0]?.extensions.errors ?? []).map((e) => e.path).sort(), ['custom.tier', 'phone']);
  t.same((await gql(CREATE, { input: { jobTitle: 'Nobody' } })).codes, ['validation_failed'], 'no identifying field');
  t.same((await gql(CREATE, { input: { firstName: 'X', website: 'y' } })).codes, ['validation_failed'], 'unknown input field');
  t.same((await gql(CREATE, { input: { firstName: 'X', companyId: randomUUID() } })).codes, ['invalid_reference']);
  t.same((await gql(CREATE, { input: { firstName: 'Viewer' } }, h.user('viewer'))).codes, ['forbidden']);
  const theirs = await create({ firstName: 'Not Sales' });
  const r = await gql('mutation($id: ID!) { updateContact(id: $id, input: { jobTitle: "x" }) { id } }', { id: theirs.id }, h.user('sales'));
  t.same(r.codes, ['forbidden']);
});

t.test('contacts connection: filter, q, paging; contactsCount', async (t) => {
  for (const [i, n] of ['أحمد', 'Zoë', 'Émile'].entries()) await create({ firstName: n, tags: [tag], emailOptIn: i !== 1 });
  const LIST = `query($f: ContactFilter, $q: String, $first: Int, $after: String) {
    contacts(filter: $f, q: $q, first: $first, after: $after, sort: [{ field: firstName }]) { edges { node { firstName } } pageInfo { hasNextPage endCursor } } }`;
  const f = { tags: { contains: tag } };
  const p1 = await gql(LIST, { f, first: 2 });
  t.same(p1.data?.contacts.edges.map((e: { node: { firstName: string } }) => e.node.firstName), ['Zoë', 'Émile']);
  t.equal(p1.data?.contacts.pageInfo.hasNextPage, true);
  const p2 = await gql(LIST, { f, first: 2, after: p1.data?.contacts.pageInfo.endCursor });
  t.same(p2.data?.contacts.edges.map((e: { node: { firstName: string } }) => e.node.firstName), ['أحمد']);
  const q = await gql(LIST, { f, q: 'احمد' });
  t.same(q.data?.contacts.edges.map((e: { node: { firstName: string } }) => e.node.firstName), ['أحمد']);
  const n = await gql('query($f: ContactFilter) { contactsCount(filter: $f) }', { f: { ...f, emailOptIn: { eq: true }, lifecycleStage: { isNull: true } } });
  t.equal(n.data?.contactsCount, 2);
});

t.test('upsertContacts by email and by externalId', async (t) => {
  const UPSERT = 'mutation($p: String, $r: [JSON!]!) { upsertContacts(idProperty: $p, records: $r) { index id status error { code } } }';
  const a = await gql(UPSERT, { p: 'email', r: [{ email: 'gup@example.com', firstName: 'G' }, { email: 'bad', firstName: 'B' }] });
  t.match(a.data?.upsertContacts, [{ status: 'created' }, { status: 'error', error: { code: 'validation_failed' } }]);
  const b = await gql(UPSERT, { p: 'email', r: [{ email: 'GUP@example.com', lastName: 'Up' }] });
  t.match(b.data?.upsertContacts, [{ status: 'updated', id: a.data?.upsertContacts[0].id }]);
  const e1 = await gql(UPSERT, { p: 'externalId.hub', r: [{ externalIds: { hub: 'h9' }, firstName: 'Hub' }] });
  const e2 = await gql(UPSERT, { p: 'externalId.hub', r: [{ externalIds: { hub: 'h9' }, firstName: 'Hub' }] });
  t.match(e2.data?.upsertContacts, [{ status: 'unchanged', id: e1.data?.upsertContacts[0].id }]);
  const bad = await gql(UPSERT, { p: 'firstName', r: [{ firstName: 'Nobody' }] });
  t.equal(bad.errors?.[0]?.extensions.code, 'validation_failed', 'an idProperty that is not id, email or externalId.<system> is refused');
  t.equal(bad.errors?.[0]?.extensions.errors?.[0]?.path, 'idProperty');
});

t.test('Contact.company, Contact.owner and Company.contacts resolve through loaders', async (t) => {
  const co = await gql('mutation { createCompany(input: { name: "Loader Co" }) { id } }');
  const companyId = co.data?.createCompany.id;
  const other = (await gql('mutation { createCompany(input: { name: "Loader Two" }) { id } }')).data?.createCompany.id;
  const mine = [await create({ firstName: 'L1', companyId, tags: [`${tag}-l`] }), await create({ firstName: 'L2', companyId, tags: [`${tag}-l`] })];
  await create({ firstName: 'L3', companyId: other, tags: [`${tag}-l`] });
  await create({ firstName: 'L4', tags: [`${tag}-l`] });
  const r = await gql(`query($f: ContactFilter) { contacts(filter: $f, sort: [{ field: firstName }]) { edges { node {
      firstName owner { id } company { name contacts { firstName } } } } } }`, { f: { tags: { contains: `${tag}-l` } } });
  t.same(r.errors, []);
  const nodes = r.data?.contacts.edges.map((e: { node: unknown }) => e.node);
  t.match(nodes[0], { firstName: 'L1', owner: null, company: { name: 'Loader Co', contacts: [{ firstName: 'L2' }, { firstName: 'L1' }] } });
  t.match(nodes[2], { firstName: 'L3', company: { name: 'Loader Two', contacts: [{ firstName: 'L3' }] } });
  t.equal(nodes[3].company, null);
  t.equal(mine.length, 2);
});
