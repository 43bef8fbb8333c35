import { randomUUID } from 'node:crypto';
import t from 'tap';
import { users } from '../../src/modules/identity/identity.table.js';
import { startTestApp } from '../helpers/app.js';
import { countStatements } from '../helpers/statements.js';
import { createTestDatabase } from '../helpers/database.js';

// No N+1: the 360 view and a contacts list with include=company,owner (REST) or company { } owner { }
// (GraphQL) run the same number of SQL statements whatever the page size or the amount of data.
// Statements are counted at the driver (test/helpers/statements.ts).
//
// Lists (and the 360's convertedLeads, a leads list) compile their filters with the entity's custom-field
// definitions, which each process caches for 2 s of wall-clock time (custom-field.service.ts). Whether a
// run refills that cache depends on how long the previous one took, not on how many items it returns:
// on a loaded machine a run paid one statement more than the next (17 vs 18). So that lookup is counted
// apart (`ignored`), and bounded to one per run: one query per entity, never one per row.

const db = await createTestDatabase();
const isDefinitionsLookup = (sql: string) => sql.includes('from "custom_fields"');
const count = countStatements(db.database, { ignore: isDefinitionsLookup });
const counter = { take: count };
const h = await startTestApp({ db });
t.teardown(async () => {
  await h.close();
  await db.close();
});
const admin = h.user('admin');
const tag = `qc-${randomUUID().slice(0, 8)}`;
const SIZE = 50;

// 50 contacts, each with a company and an owner of its own, so nothing is shared between rows.
const owners = Array.from({ length: SIZE }, (_, i) => ({ id: randomUUID(), email: `${tag}-owner-${i}@example.com`, name: `Owner ${tag} ${i}`, role: 'sales', passwordHash: 'not-a-login' }));
await db.database.db.insert(users).values(owners);
const companies = await h.request({
  method: 'POST', url: '/v1/companies/batch', headers: admin.auth,
  payload: { operation: 'create', records: owners.map((_, i) => ({ name: `QC Company ${tag} ${i}` })) },
});
const companyIds = (companies.json().results as { id: string }[]).map((r) => r.id);
const contacts = await h.request({
  method: 'POST', url: '/v1/contacts/batch', headers: admin.auth,
  payload: { operation: 'create', records: owners.map((o, i) => ({ firstName: `QC ${i}`, tags: [tag], companyId: companyIds[i], ownerId: o.id })) },
});
// no top-level assertion here: tap would end the root test while the fixtures below are still awaited
if ((contacts.json().results as { status: string }[]).filter((r) => r.status === 'created').length !== SIZE) throw new Error(contacts.body);

// Every fixture exists before the first subtest: tap runs subtests while top-level code goes on, and a
// write in flight would be counted with the reads being measured.
const pipeline = await h.request({ method: 'POST', url: '/v1/pipelines', headers: admin.auth, payload: { name: 'QC pipeline', stages: [{ name: 'QC open', probability: 30 }] } });
if (pipeline.statusCode !== 201) throw new Error(pipeline.body);

/** A contact with `n` activities, `n` open tasks and `n` open deals, each owned by a different user. */
async function contactWith(n: number): Promise<string> {
  const c = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: `QC360 ${n}`, companyId: companyIds[n] } });
  const id = c.json().id as string;
  const records = Array.from({ length: n }, (_, i) => [
    { type: 'call', subject: `qc call ${i}`, contactId: id, ownerId: owners[i]?.id },
    { type: 'task', subject: `qc task ${i}`, contactId: id, ownerId: owners[(i + 1) % SIZE]?.id },
  ]).flat();
  const r = await h.request({ method: 'POST', url: '/v1/activities/batch', headers: admin.auth, payload: { operation: 'create', records } });
  if (r.statusCode !== 200) throw new Error(r.body);
  const dealRecords = Array.from({ length: n }, (_, i) => ({
    name: `qc deal ${i}`, pipelineId: pipeline.json().id, stageId: pipeline.json().stages[0].id, contactIds: [id],
    companyId: companyIds[i], ownerId: owners[i]?.id,
  }));
  const d = await h.request({ method: 'POST', url: '/v1/deals/batch', headers: admin.auth, payload: { operation: 'create', records: dealRecords, atomic: true } });
  if (d.statusCode !== 200) throw new Error(d.body);
  return id;
}

const few = await contactWith(2);
const many = await contactWith(20);

async function restList(limit: number) {
  return counter.take(async () => {
    const res = await h.request({ method: 'GET', url: `/v1/contacts?limit=${limit}&filter[tags][eq]=${tag}&include=company,owner`, headers: admin.auth });
    return res.json() as { data: { company: { name: string } | null; owner: { name: string } | null }[] };
  });
}

t.test('REST contacts with include=company,owner: same statement count for 5 and 50 rows', async (t) => {
  await restList(1); // warm-up: first-use lookups (custom-field definitions, …) are not what is measured
  const small = await restList(5);
  const large = await restList(SIZE);
  t.equal(small.result.data.length, 5);
  t.equal(large.result.data.length, SIZE);
  t.ok(large.result.data.every((c) => c.company?.name.startsWith('QC Company') && c.owner?.name.startsWith('Owner')), 'every row embeds its company and owner');
  t.equal(new Set(large.result.data.map((c) => c.company?.name)).size, SIZE, 'fifty distinct companies');
  t.ok(small.statements > 0, `the counter sees statements (${small.statements})`);
  t.equal(large.statements, small.statements, `50 rows: ${large.statements} statements, 5 rows: ${small.statements}`);
  t.ok(large.ignored <= 1 && small.ignored <= 1, `custom-field definitions looked up at most once a run (${small.ignored}, ${large.ignored}), never once a row`);
  t.ok(large.statements <= 5, 'list + companies + owners (the definitions lookup is counted apart)');
});

const LIST = `query($first: Int, $tag: String) { contacts(first: $first, filter: { tags: { eq: $tag } }) {
  edges { node { id company { name } owner { name } } } } }`;

async function gqlList(first: number) {
  return counter.take(async () => (await h.gql(admin, LIST, { first, tag })).body);
}

t.test('GraphQL contacts { company { name } owner { name } }: same statement count for 5 and 50 rows', async (t) => {
  await gqlList(1);
  const small = await gqlList(5);
  const large = await gqlList(SIZE);
  t.same(large.result.errors, undefined);
  const edges = large.result.data?.contacts.edges as { node: { company: { name: string } | null; owner: { name: string } | null } }[];
  t.equal(edges.length, SIZE);
  t.ok(edges.every((e) => e.node.company?.name.startsWith('QC Company') && e.node.owner?.name.startsWith('Owner')), 'every node resolves company and owner');
  t.equal(small.result.data?.contacts.edges.length, 5);
  t.ok(small.statements > 0);
  t.equal(large.statements, small.statements, `50 nodes: ${large.statements} statements, 5 nodes: ${small.statements}`);
  t.ok(large.ignored <= 1 && small.ignored <= 1, `custom-field definitions looked up at most once a run (${small.ignored}, ${large.ignored}), never once a row`);
  t.ok(large.statements <= 5, 'list + companies + owners (the definitions lookup is counted apart)');
});


t.test('REST 360: the same statement count for a contact with 2 or 20 activities, tasks and deals', async (t) => {
  const view = (id: string) => counter.take(async () => (await h.request({ method: 'GET', url: `/v1/contacts/${id}/360`, headers: admin.auth })).json());
  await view(few);
  const a = await view(few);
  const b = await view(many);
  t.equal(a.result.recentActivities.length, 4);
  t.equal(b.result.recentActivities.length, 10);
  t.equal(b.result.openTasks.length, 20);
  t.equal(a.result.openDeals.length, 2);
  t.equal(b.result.openDeals.length, 20);
  t.match(b.result.company, { name: /^QC Company/ });
  t.ok(a.statements > 0);
  t.equal(b.statements, a.statements, `20+20+20: ${b.statements} statements, 2+2+2: ${a.statements}`);
  t.ok(b.ignored <= 1 && a.ignored <= 1, `custom-field definitions looked up at most once a run (${a.ignored}, ${b.ignored}), never once a row`);
  t.ok(b.statements <= 9, 'contact, company, recent activities, open tasks, open deals, converted leads, orders with lifetime value and loyalty, last NPS, open tickets');
});

const VIEW = `query($id: ID!) { contact360(id: $id) {
  contact { id company { name } owner { name } }
  company { name }
  recentActivities { id owner { name } contact { id } }
  openTasks { id owner { name } company { name } }
  openDeals { id owner { name } company { name } contacts { id } stage { name } }
} }`;

t.test('GraphQL contact360 with nested owners and deals: the same statement count for 2 or 20 of each', async (t) => {
  const view = (id: string) => counter.take(async () => (await h.gql(admin, VIEW, { id })).body);
  await view(few);
  const a = await view(few);
  const b = await view(many);
  t.same(b.result.errors, undefined);
  const v = b.result.data?.contact360;
  t.equal(v.openTasks.length, 20);
  t.equal(v.openDeals.length, 20);
  t.ok(v.openDeals.every((x: { owner: { name: string } | null; stage: { name: string } }) => x.owner?.name.startsWith('Owner') && x.stage.name === 'QC open'), 'deal owners and stages resolved');
  t.ok(v.recentActivities.every((x: { owner: { name: string } | null }) => x.owner?.name.startsWith('Owner')), 'activity owners resolved');
  t.equal(new Set(v.openTasks.map((x: { owner: { name: string } }) => x.owner.name)).size, 20, 'twenty distinct task owners');
  t.ok(a.statements > 0);
  t.equal(b.statements, a.statements, `20+20: ${b.statements} statements, 2+2: ${a.statements}`);
  t.ok(b.ignored <= 1 && a.ignored <= 1, `custom-field definitions looked up at most once a run (${a.ignored}, ${b.ignored}), never once a row`);
});

t.test('a timeline page is one statement (the UNION ALL), whatever its size', async (t) => {
  const page = (limit: number) => counter.take(async () => (await h.request({ method: 'GET', url: `/v1/contacts/${many}/timeline?limit=${limit}`, headers: admin.auth })).json());
  await page(1);
  const small = await page(5);
  const large = await page(40);
  t.equal(small.result.data.length, 5);
  t.equal(large.result.data.length, 40, 'twenty calls and twenty tasks');
  t.equal(small.statements, 1, 'limit=5: one statement');
  t.equal(large.statements, 1, 'limit=40: one statement');
});
