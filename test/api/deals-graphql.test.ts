import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { countStatements } from '../helpers/statements.js';
import { createTestDatabase } from '../helpers/database.js';

// Deals over POST /graphql: the same service as REST (rules, errors, versions), the relations
// (company, contacts, owner, pipeline, stage, Contact.deals, Company.deals) through loaders that run
// one statement per relation whatever the page size, history, and batches.

const database = await createTestDatabase();
// the deal custom-field definitions (a 2 s per-process cache) may refill in either run, whatever its
// size (see query-count.test.ts): counted apart, and at most once a run
const measure = countStatements(database.database, { ignore: (sql) => sql.includes('from "custom_fields"') });
const h = await startTestApp({ db: database });
t.teardown(async () => {
  await h.close();
  await database.close();
});
const admin = h.user('admin');

async function gql(query: string, variables?: Record<string, unknown>, who = admin) {
  const res = await h.gql(who, query, variables);
  const errors = res.body.errors ?? [];
  return { status: res.status, data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}
const rest = async (url: string, payload: unknown) => {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload: payload as object });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json();
};

const owner = await rest('/v1/users', { email: `deal-owner-${randomUUID().slice(0, 8)}@example.com`, password: 'a long enough password 1', name: 'Dee Owner', role: 'sales' });
const pipeline = await rest('/v1/pipelines', { name: 'GQL', stages: [{ name: 'Open', probability: 25 }, { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' }] });
const other = await rest('/v1/pipelines', { name: 'GQL other', stages: [{ name: 'Elsewhere', probability: 5 }] });
const [open, won, lost] = pipeline.stages.map((s: { id: string }) => s.id) as [string, string, string];
const company = await rest('/v1/companies', { name: 'Graph Deal Co' });
const contact = await rest('/v1/contacts', { firstName: 'Gra', lastName: 'Ph' });

const FIELDS = 'id version name pipelineId stageId amount currency status lostReason closedAt position contactIds ownerId deletedAt';
const CREATE = `mutation($input: DealCreateInput!) { createDeal(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: DealPatchInput!, $v: Int) { updateDeal(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const base = { pipelineId: pipeline.id, stageId: open };

async function create(input: Record<string, unknown>) {
  const r = await gql(CREATE, { input: { ...base, ...input } });
  if (!r.data?.createDeal) throw new Error(`create failed: ${JSON.stringify(r.errors)}`);
  return r.data.createDeal;
}

t.test('createDeal, deal(id), updateDeal, deleteDeal, restoreDeal', async (t) => {
  const d = await create({ name: 'Graph deal', amount: '99.9', currency: 'SAR', contactIds: [contact.id], companyId: company.id });
  t.match(d, { version: 1, amount: '99.90', status: 'open', closedAt: null, contactIds: [contact.id], ownerId: admin.id });
  const one = await gql(`query($id: ID!) { deal(id: $id) { ${FIELDS} } }`, { id: d.id });
  t.same(one.data?.deal, d);
  const rest1 = await h.request({ method: 'GET', url: `/v1/deals/${d.id}`, headers: admin.auth });
  t.match(rest1.json(), { id: d.id, amount: '99.90' }, 'REST sees the same record');

  const toWon = await gql(UPDATE, { id: d.id, input: { stageId: won }, v: 1 });
  t.match(toWon.data?.updateDeal, { status: 'won', version: 2 });
  t.ok(toWon.data?.updateDeal.closedAt);
  const stale = await gql(UPDATE, { id: d.id, input: { name: 'Stale' }, v: 1 });
  t.same(stale.codes, ['version_conflict']);
  t.match(stale.errors[0]?.extensions, { status: 412 });
  const needsReason = await gql(UPDATE, { id: d.id, input: { stageId: lost } });
  t.same(needsReason.codes, ['validation_failed']);
  t.match(needsReason.errors[0]?.extensions.errors, [{ path: 'lostReason' }]);

  const del = await gql('mutation($id: ID!) { deleteDeal(id: $id) }', { id: d.id });
  t.equal(del.data?.deleteDeal, true);
  t.same((await gql('query($id: ID!) { deal(id: $id) { id } }', { id: d.id })).codes, ['not_found']);
  const back = await gql('mutation($id: ID!) { restoreDeal(id: $id) { id deletedAt } }', { id: d.id });
  t.same(back.data?.restoreDeal, { id: d.id, deletedAt: null });
});

t.test('validation: unknown and read-only input fields, money precision, stage of another pipeline', async (t) => {
  const unknown = await gql(CREATE, { input: { ...base, name: 'Bad', mood: 'x' } });
  t.same(unknown.codes, ['validation_failed'], 'an input field the schema does not know');
  const readOnly = await gql(CREATE, { input: { ...base, name: 'Bad', status: 'won' } });
  t.same(readOnly.codes, ['validation_failed'], 'status is not an input field');
  const money = await gql(CREATE, { input: { ...base, name: 'Bad', amount: '1.234', currency: 'SAR' } });
  t.same(money.codes, ['validation_failed']);
  t.match(money.errors[0]?.extensions.errors, [{ path: 'amount' }]);
  const stage = await gql(CREATE, { input: { ...base, name: 'Bad', stageId: other.stages[0].id } });
  t.same(stage.codes, ['validation_failed']);
  t.match(stage.errors[0]?.extensions.errors, [{ path: 'stageId' }]);
  const ref = await gql(CREATE, { input: { ...base, name: 'Bad', companyId: randomUUID() } });
  t.same(ref.codes, ['invalid_reference']);
  t.equal((await gql('{ dealsCount(filter: { name: { eq: "Bad" } }) }')).data?.dealsCount, 0);
});

t.test('deals: filter, sort, q, paging; dealHistory', async (t) => {
  const tag = `G${randomUUID().slice(0, 6)}`;
  for (const n of ['a', 'b', 'c']) await create({ name: `${tag} ${n}`, ...(n === 'b' ? { stageId: won } : {}) });
  const LIST = `query($f: DealFilter, $s: [DealSort!], $first: Int, $after: String, $q: String) {
    deals(filter: $f, sort: $s, first: $first, after: $after, q: $q) { edges { node { name status } } pageInfo { hasNextPage endCursor } } }`;
  const p1 = await gql(LIST, { f: { name: { startsWith: tag } }, s: [{ field: 'name', direction: 'DESC' }], first: 2 });
  t.same(p1.data?.deals.edges.map((e: { node: { name: string } }) => e.node.name), [`${tag} c`, `${tag} b`]);
  t.equal(p1.data?.deals.pageInfo.hasNextPage, true);
  const p2 = await gql(LIST, { f: { name: { startsWith: tag } }, s: [{ field: 'name', direction: 'DESC' }], first: 2, after: p1.data?.deals.pageInfo.endCursor });
  t.same(p2.data?.deals.edges.map((e: { node: { name: string } }) => e.node.name), [`${tag} a`]);
  const wonOnly = await gql(LIST, { f: { name: { startsWith: tag }, status: { eq: 'won' } } });
  t.same(wonOnly.data?.deals.edges.map((e: { node: { name: string } }) => e.node.name), [`${tag} b`]);
  const q = await gql(LIST, { q: `${tag} c` });
  t.same(q.data?.deals.edges.map((e: { node: { name: string } }) => e.node.name), [`${tag} c`]);
  t.equal((await gql('query($f: DealFilter) { dealsCount(filter: $f) }', { f: { name: { startsWith: tag }, status: { ne: 'won' } } })).data?.dealsCount, 2);

  const d = await create({ name: `${tag} moving` });
  await new Promise((r) => setTimeout(r, 60));
  await gql(UPDATE, { id: d.id, input: { stageId: won } });
  const hist = await gql(`query($id: ID!) { dealHistory(id: $id, first: 1) { edges { node { fromStageId toStageId timeInPreviousStageMs changedBy } } pageInfo { hasNextPage endCursor } } }`, { id: d.id });
  const entry = hist.data?.dealHistory.edges[0].node;
  t.match(entry, { fromStageId: open, toStageId: won, changedBy: admin.id });
  t.ok(entry.timeInPreviousStageMs > 0);
  t.equal(hist.data?.dealHistory.pageInfo.hasNextPage, true, 'the creation entry follows');
});

t.test('relations resolve through loaders: the same statement count for 2 and 8 deals', async (t) => {
  const tag = `R${randomUUID().slice(0, 6)}`;
  for (let i = 0; i < 8; i++) {
    const firm = await rest('/v1/companies', { name: `${tag} firm ${i}` });
    const person = await rest('/v1/contacts', { firstName: `${tag} ${i}` });
    await create({ name: `${tag} ${i}`, companyId: firm.id, contactIds: [person.id, contact.id], ownerId: owner.id });
  }
  const QUERY = `query($f: DealFilter, $first: Int) { deals(filter: $f, first: $first) { edges { node {
    name company { name } contacts { firstName } owner { name } pipeline { name stages { name kind } } stage { name kind } } } } }`;
  const run = (first: number) => measure(() => gql(QUERY, { f: { name: { startsWith: tag } }, first }));
  await run(1); // warm-up: first-use lookups are not what is measured
  const small = await run(2);
  const large = await run(8);
  t.same(large.result.errors, []);
  const nodes = large.result.data?.deals.edges.map((e: { node: unknown }) => e.node);
  t.equal(nodes.length, 8);
  t.match(nodes[0], {
    company: { name: new RegExp(`^${tag} firm`) }, contacts: [{ firstName: new RegExp(`^${tag}`) }, { firstName: 'Gra' }], owner: { name: 'Dee Owner' },
    pipeline: { name: 'GQL', stages: [{ name: 'Open', kind: 'open' }, { name: 'Won' }, { name: 'Lost' }] }, stage: { name: 'Open', kind: 'open' },
  });
  t.equal(large.statements, small.statements, `8 deals: ${large.statements} statements, 2 deals: ${small.statements}`);
  t.ok(small.ignored <= 1 && large.ignored <= 1, `custom-field definitions looked up at most once a run (${small.ignored}, ${large.ignored})`);

  const back = await gql('query($c: ID!, $k: ID!) { contact(id: $c) { deals { name } } company(id: $k) { deals { name } } }', { c: contact.id, k: company.id });
  t.same(back.errors, []);
  t.ok(back.data?.contact.deals.filter((d: { name: string }) => d.name.startsWith(tag)).length === 8, 'Contact.deals');
  t.ok(back.data?.company.deals.length >= 1, 'Company.deals');
});

t.test('batchDeals reports per record', async (t) => {
  const r = await gql('mutation($records: [JSON!]!) { batchDeals(operation: create, records: $records) { index id status error { code errors { path } } } }', {
    records: [{ ...base, name: 'GB ok' }, { ...base, name: 'GB bad', closedAt: '2030-01-01T00:00:00Z' }],
  });
  t.same(r.errors, []);
  t.match(r.data?.batchDeals, [{ index: 0, status: 'created' }, { index: 1, status: 'error', id: null, error: { code: 'validation_failed', errors: [{ path: 'closedAt' }] } }]);
});
