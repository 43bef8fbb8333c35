import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { countStatements } from '../helpers/statements.js';
import { createTestDatabase } from '../helpers/database.js';

// Leads over POST /graphql: the same service, rules and codes as REST; relations through loaders,
// so a page of leads with their owners costs the same statements whatever its size.

const database = await createTestDatabase();
// the lead custom-field definitions (a 2 s per-process cache) may refill in either run, whatever its
// size (see query-count.test.ts): counted apart, and at most once a run
const statementsOf = countStatements(database.database, { ignore: (sql) => sql.includes('from "custom_fields"') });
const h = await startTestApp({ db: database });
t.teardown(async () => {
  await h.close();
  await database.close();
});
const admin = h.user('admin');
const teamA = randomUUID();
const salesA = h.user('sales', { teamIds: [teamA] });
const salesB = h.user('sales', { teamIds: [randomUUID()] });
const tag = `gl-${randomUUID().slice(0, 8)}`;

async function gql(query: string, variables?: Record<string, unknown>, who: ReturnType<typeof h.user> = admin) {
  const res = await h.gql(who, query, variables);
  const errors = res.body.errors ?? [];
  return { status: res.status, data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}
const FIELDS = 'id version firstName lastName email phone companyName companyDomain source status score ownerId teamId custom convertedAt matchingContactId';
const CREATE = `mutation($input: LeadCreateInput!) { createLead(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: LeadPatchInput!, $v: Int) { updateLead(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const LIST = `query($filter: LeadFilter, $sort: [LeadSort!], $first: Int, $after: String, $q: String) {
  leads(filter: $filter, sort: $sort, first: $first, after: $after, q: $q) { edges { cursor node { id firstName } } pageInfo { hasNextPage endCursor } } }`;
async function create(input: Record<string, unknown>, who = admin) {
  const r = await gql(CREATE, { input }, who);
  if (!r.data?.createLead) throw new Error(`create failed: ${JSON.stringify(r.errors)}`);
  return r.data.createLead;
}

t.test('createLead, lead(id), updateLead with expectedVersion, deleteLead and restoreLead', async (t) => {
  const lead = await create({ firstName: 'Graph', lastName: tag, email: 'Graph@Example.com', phone: '0501234567', companyName: 'Graph Co', status: 'contacted' });
  t.match(lead, { version: 1, email: 'graph@example.com', phone: '+966501234567', status: 'contacted', score: 0, ownerId: admin.id, convertedAt: null });
  t.same((await gql(`query($id: ID!) { lead(id: $id) { ${FIELDS} } }`, { id: lead.id })).data?.lead, lead);
  const rest = await h.request({ method: 'GET', url: `/v1/leads/${lead.id}`, headers: admin.auth });
  t.match(rest.json(), { id: lead.id, email: 'graph@example.com' }, 'REST sees the same record');

  t.match((await gql(UPDATE, { id: lead.id, input: { status: 'qualified', source: 'ads' }, v: 1 })).data?.updateLead, { version: 2, status: 'qualified', source: 'ads' });
  const stale = await gql(UPDATE, { id: lead.id, input: { source: 'late' }, v: 1 });
  t.same(stale.codes, ['version_conflict']);
  t.equal((await gql('mutation($id: ID!) { deleteLead(id: $id) }', { id: lead.id })).data?.deleteLead, true);
  t.same((await gql('query($id: ID!) { lead(id: $id) { id } }', { id: lead.id })).codes, ['not_found']);
  t.match((await gql('mutation($id: ID!) { restoreLead(id: $id) { id deletedAt version } }', { id: lead.id })).data?.restoreLead, { id: lead.id, deletedAt: null, version: 4 });
});

t.test('validation carries validation_failed and the REST paths', async (t) => {
  const paths = (r: { errors: { extensions: { errors?: { path: string }[] } }[] }) => (r.errors[0]?.extensions.errors ?? []).map((e) => e.path).sort();
  const bad = await gql(CREATE, { input: { email: 'nope', phone: '12', custom: { tier: 'gold' } } });
  t.same(bad.codes, ['validation_failed']);
  t.same(paths(bad), ['email']);
  const checks = await gql(CREATE, { input: { firstName: 'X', phone: '12', custom: { tier: 'gold' } } });
  t.same(paths(checks), ['custom.tier', 'phone']);
  const converted = await gql(CREATE, { input: { firstName: 'X', status: 'converted' } });
  t.same(converted.codes, ['validation_failed']);
  t.same(paths(converted), ['status']);
  const readOnly = await gql(CREATE, { input: { firstName: 'X', score: 10 } });
  t.same(readOnly.codes, ['validation_failed'], 'score is not in the input type: refused before any resolver');
  const empty = await gql(CREATE, { input: { source: 'web' } });
  t.same(paths(empty), ['(root)']);
});

t.test('leads(filter, sort, first, after, q), leadsCount and batchLeads', async (t) => {
  const names = ['Ayla', 'Bader', 'Cyrus'];
  for (const n of names) await create({ firstName: n, lastName: `${tag}-list`, source: 'list', companyName: `${n} Widgets ${tag}` });
  const p1 = await gql(LIST, { filter: { lastName: { eq: `${tag}-list` } }, sort: [{ field: 'firstName', direction: 'ASC' }], first: 2 });
  t.same(p1.data?.leads.edges.map((e: { node: { firstName: string } }) => e.node.firstName), ['Ayla', 'Bader']);
  t.equal(p1.data?.leads.pageInfo.hasNextPage, true);
  const p2 = await gql(LIST, { filter: { lastName: { eq: `${tag}-list` } }, sort: [{ field: 'firstName', direction: 'ASC' }], first: 2, after: p1.data?.leads.pageInfo.endCursor });
  t.same(p2.data?.leads.edges.map((e: { node: { firstName: string } }) => e.node.firstName), ['Cyrus']);
  const q = await gql(LIST, { q: `bader widgets ${tag}` });
  t.same(q.data?.leads.edges.map((e: { node: { firstName: string } }) => e.node.firstName), ['Bader']);
  const n = await gql('query($f: LeadFilter) { leadsCount(filter: $f) }', { f: { lastName: { eq: `${tag}-list` }, status: { in: ['new'] } } });
  t.equal(n.data?.leadsCount, 3);

  const email = `batch.${tag}@example.com`;
  const batch = await gql(`mutation($r: [JSON!]!) { batchLeads(operation: upsert, idProperty: email, records: $r) { index id status error { code } } }`,
    { r: [{ email, firstName: 'Batched' }, { email, lastName: 'Again' }, { email: 'bad', firstName: 'x' }] });
  t.match(batch.data?.batchLeads, [{ status: 'created' }, { status: 'updated' }, { status: 'error', error: { code: 'validation_failed' } }]);
  t.equal(batch.data?.batchLeads[0].id, batch.data?.batchLeads[1].id, 'the second record upserted the first');
});

t.test('scope: sales see their own and their teams\' leads only; support is refused', async (t) => {
  const mine = await create({ firstName: 'Mine', lastName: `${tag}-scope` }, salesA);
  const theirs = await create({ firstName: 'Theirs', lastName: `${tag}-scope` }, salesB);
  t.match(mine, { ownerId: salesA.id, teamId: teamA });
  t.same((await gql('query($id: ID!) { lead(id: $id) { id } }', { id: theirs.id }, salesA)).codes, ['not_found']);
  t.same((await gql(UPDATE, { id: theirs.id, input: { source: 'x' } }, salesA)).codes, ['not_found']);
  t.same((await gql('mutation($id: ID!) { deleteLead(id: $id) }', { id: theirs.id }, salesA)).codes, ['not_found']);
  const list = await gql(LIST, { filter: { lastName: { eq: `${tag}-scope` } } }, salesA);
  t.same(list.data?.leads.edges.map((e: { node: { id: string } }) => e.node.id), [mine.id]);
  t.equal((await gql('query($f: LeadFilter) { leadsCount(filter: $f) }', { f: { lastName: { eq: `${tag}-scope` } } }, salesA)).data?.leadsCount, 1);
  const support = h.user('support');
  t.same((await gql('{ leadsCount }', undefined, support)).codes, ['forbidden']);
  t.same((await gql(CREATE, { input: { firstName: 'S' } }, support)).codes, ['forbidden']);
  t.same((await gql(CREATE, { input: { firstName: 'V' } }, h.user('viewer'))).codes, ['forbidden']);
});

t.test('Lead.owner through a loader: the same statements for 2 leads as for 12', async (t) => {
  const user = await h.request({
    method: 'POST', url: '/v1/users', headers: admin.auth,
    payload: { email: `owner.${tag}@example.com`, password: 'a-long-enough-password-1', name: 'Owner Person', role: 'sales', teamIds: [] },
  });
  t.equal(user.statusCode, 201);
  const owner = h.user('sales', { id: user.json().id });
  for (let i = 0; i < 12; i++) await create({ firstName: `Owned${i}`, lastName: `${tag}-own` }, owner);
  const QUERY = `query($first: Int, $f: LeadFilter) { leads(first: $first, filter: $f) { edges { node { id owner { name email } convertedContact { id } convertedCompany { id } convertedDeal { id } } } } }`;
  let page: { data: Record<string, any> | null } = { data: null };
  const small = await statementsOf(async () => { page = await gql(QUERY, { first: 2, f: { lastName: { eq: `${tag}-own` } } }); });
  t.same(page.data?.leads.edges[0].node.owner, { name: 'Owner Person', email: `owner.${tag}@example.com` });
  const large = await statementsOf(async () => { page = await gql(QUERY, { first: 12, f: { lastName: { eq: `${tag}-own` } } }); });
  t.equal(page.data?.leads.edges.length, 12);
  t.ok(page.data?.leads.edges.every((e: { node: { owner: { name: string } } }) => e.node.owner.name === 'Owner Person'));
  t.equal(large.statements, small.statements, `no N+1: ${small.statements} statements either way`);
  t.ok(small.ignored <= 1 && large.ignored <= 1, `custom-field definitions looked up at most once a run (${small.ignored}, ${large.ignored})`);
});
