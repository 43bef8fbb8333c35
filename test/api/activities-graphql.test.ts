import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Activities over POST /graphql: same service, rules and error codes as REST, relations via loaders.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const FIELDS = 'id version type subject direction occurredAt dueAt completedAt contactId companyId ownerId deletedAt';

async function gql(query: string, variables?: Record<string, unknown>, who: ReturnType<typeof h.user> = admin) {
  const res = await h.gql(who, query, variables);
  const errors = res.body.errors ?? [];
  return { data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}

const CREATE = `mutation($input: ActivityCreateInput!) { createActivity(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: ActivityPatchInput!, $v: Int) { updateActivity(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;

async function create(input: Record<string, unknown>, who = admin) {
  const r = await gql(CREATE, { input }, who);
  if (!r.data?.createActivity) throw new Error(`create failed: ${JSON.stringify(r.errors)}`);
  return r.data.createActivity;
}

const contact = (await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: 'Gql', lastName: 'Contact' } })).json();
const company = (await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: 'Gql Act Co' } })).json();

t.test('createActivity and activity(id) answer the stored record; REST agrees', async (t) => {
  const a = await create({ type: 'task', subject: 'Gq task', dueAt: '2030-02-01T08:00:00.000Z', contactId: contact.id });
  t.match(a, { version: 1, type: 'task', dueAt: '2030-02-01T08:00:00.000Z', completedAt: null, ownerId: admin.id, contactId: contact.id });
  const one = await gql(`query($id: ID!) { activity(id: $id) { ${FIELDS} } }`, { id: a.id });
  t.same(one.errors, []);
  t.same(one.data?.activity, a);
  const rest = await h.request({ method: 'GET', url: `/v1/activities/${a.id}`, headers: admin.auth });
  t.match(rest.json(), { id: a.id, subject: 'Gq task', dueAt: '2030-02-01T08:00:00.000Z' });
});

t.test('validation: bad enum, unknown field, task-only field and bad reference carry the REST codes', async (t) => {
  t.same((await gql(CREATE, { input: { type: 'fax' } })).codes, ['validation_failed'], 'bad enum');
  t.same((await gql(CREATE, { input: { type: 'call', mood: 'x' } })).codes, ['validation_failed'], 'unknown input field');
  const due = await gql(CREATE, { input: { type: 'call', subject: 'Gq refused', dueAt: '2030-01-01T00:00:00.000Z' } });
  t.same(due.codes, ['validation_failed']);
  t.match(due.errors[0]?.extensions.errors, [{ path: 'dueAt', message: /only tasks/ }]);
  const ref = await gql(CREATE, { input: { type: 'call', subject: 'Gq refused', companyId: randomUUID() } });
  t.same(ref.codes, ['invalid_reference']);
  t.match(ref.errors[0]?.extensions, { status: 422, errors: [{ path: 'companyId' }] });
  const n = await gql('query { activitiesCount(filter: { subject: { eq: "Gq refused" } }) }');
  t.equal(n.data?.activitiesCount, 0, 'nothing written');
});

t.test('updateActivity with expectedVersion; delete and restore', async (t) => {
  const a = await create({ type: 'call', subject: 'Gq call' });
  const ok = await gql(UPDATE, { id: a.id, input: { subject: 'Gq call 2', direction: 'inbound' }, v: 1 });
  t.match(ok.data?.updateActivity, { subject: 'Gq call 2', direction: 'inbound', version: 2 });
  const stale = await gql(UPDATE, { id: a.id, input: { subject: 'Gq stale' }, v: 1 });
  t.same(stale.codes, ['version_conflict']);
  t.equal((await gql('mutation($id: ID!) { deleteActivity(id: $id) }', { id: a.id })).data?.deleteActivity, true);
  t.same((await gql(`query($id: ID!) { activity(id: $id) { id } }`, { id: a.id })).codes, ['not_found']);
  const restored = await gql(`mutation($id: ID!) { restoreActivity(id: $id) { ${FIELDS} } }`, { id: a.id });
  t.match(restored.data?.restoreActivity, { id: a.id, deletedAt: null, version: 4 });
  const viewer = await gql(UPDATE, { id: a.id, input: { subject: 'viewer' } }, h.user('viewer'));
  t.same(viewer.codes, ['forbidden']);
});

t.test('activities: "my open tasks" filter, sort, paging and contact/company/owner relations', async (t) => {
  const me = h.user('sales');
  for (const due of ['2030-03-03', '2030-03-01', '2030-03-02']) await create({ type: 'task', subject: `Gq mine ${due}`, dueAt: `${due}T00:00:00.000Z`, contactId: contact.id, companyId: company.id }, me);
  await create({ type: 'task', subject: 'Gq mine done', completedAt: '2030-01-01T00:00:00.000Z' }, me);
  await create({ type: 'call', subject: 'Gq mine call' }, me);
  const LIST = `query($filter: ActivityFilter, $after: String) {
    activities(filter: $filter, sort: [{ field: dueAt }], first: 2, after: $after) {
      edges { cursor node { subject contact { id firstName } company { id name } owner { id } } }
      pageInfo { hasNextPage endCursor } } }`;
  const filter = { type: { eq: 'task' }, ownerId: { eq: me.id }, completedAt: { isNull: true } };
  const p1 = await gql(LIST, { filter });
  t.same(p1.errors, []);
  const c1 = p1.data?.activities;
  t.same(c1.edges.map((e: { node: { subject: string } }) => e.node.subject), ['Gq mine 2030-03-01', 'Gq mine 2030-03-02']);
  t.match(c1.edges[0].node, { contact: { id: contact.id, firstName: 'Gql' }, company: { id: company.id, name: 'Gql Act Co' }, owner: null });
  t.equal(c1.pageInfo.hasNextPage, true);
  const p2 = await gql(LIST, { filter, after: c1.pageInfo.endCursor });
  t.same(p2.data?.activities.edges.map((e: { node: { subject: string } }) => e.node.subject), ['Gq mine 2030-03-03']);
  t.equal(p2.data?.activities.pageInfo.hasNextPage, false);
  const n = await gql('query($f: ActivityFilter) { activitiesCount(filter: $f) }', { f: filter });
  t.equal(n.data?.activitiesCount, 3);
});
