import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Who may see and change deals (API.md §4): sales only their own and their teams' (others' are
// invisible: 404, absent from lists, counts, history and GraphQL), support nothing (403 everywhere),
// marketing and viewer read only. Admin and manager everything.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const teamA = randomUUID();
const teamB = randomUUID();
const salesA = h.user('sales', { teamIds: [teamA] });
const salesA2 = h.user('sales', { teamIds: [teamA] });
const salesB = h.user('sales', { teamIds: [teamB] });
const support = h.user('support');
const viewer = h.user('viewer');
const marketing = h.user('marketing');
type Who = typeof admin;

const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who: Who, payload?: unknown, query?: Record<string, string>) =>
  h.request({ method, url, headers: who.auth, ...(payload === undefined ? {} : { payload: payload as object }), ...(query ? { query } : {}) });

const p = (await send('POST', '/v1/pipelines', admin, { name: 'Scoped', stages: [{ name: 'Open', probability: 20 }, { name: 'Won', probability: 100, kind: 'won' }] })).json();
const base = { pipelineId: p.id, stageId: p.stages[0].id };
const company = (await send('POST', '/v1/companies', admin, { name: 'Shared Co' })).json();
const contact = (await send('POST', '/v1/contacts', admin, { firstName: 'Shared', lastName: 'Contact' })).json();

async function create(who: Who, body: Record<string, unknown>) {
  const res = await send('POST', '/v1/deals', who, { ...base, companyId: company.id, contactIds: [contact.id], ...body });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const tag = `S${randomUUID().slice(0, 6)}`;
const mine = await create(salesA, { name: `${tag} mine` });
const teammates = await create(salesA2, { name: `${tag} teammate` });
const theirs = await create(salesB, { name: `${tag} theirs` });
const unowned = await create(admin, { name: `${tag} unowned`, ownerId: null, teamId: null });

t.test('sales sees its own and its team\'s deals; another team\'s are invisible everywhere', async (t) => {
  t.match(mine, { ownerId: salesA.id, teamId: teamA });
  t.equal((await send('GET', `/v1/deals/${mine.id}`, salesA)).statusCode, 200);
  t.equal((await send('GET', `/v1/deals/${teammates.id}`, salesA)).statusCode, 200, 'a teammate\'s deal');
  for (const d of [theirs, unowned]) {
    const res = await send('GET', `/v1/deals/${d.id}`, salesA);
    t.equal(res.statusCode, 404, 'out of scope is not found');
    t.equal(res.json().code, 'not_found');
    t.equal((await send('GET', `/v1/deals/${d.id}/history`, salesA)).statusCode, 404, 'history too');
    t.equal((await send('PATCH', `/v1/deals/${d.id}`, salesA, { name: 'Stolen' })).statusCode, 404, 'and writes');
    t.equal((await send('DELETE', `/v1/deals/${d.id}`, salesA)).statusCode, 404);
  }
  const list = await send('GET', '/v1/deals', salesA, undefined, { 'filter[name][startsWith]': tag, sort: 'name' });
  t.same(list.json().data.map((d: { id: string }) => d.id), [mine.id, teammates.id]);
  const count = await send('GET', '/v1/deals/count', salesA, undefined, { 'filter[name][startsWith]': tag });
  t.equal(count.json().count, 2);
  const all = await send('GET', '/v1/deals/count', admin, undefined, { 'filter[name][startsWith]': tag });
  t.equal(all.json().count, 4, 'admin sees all');
  t.equal((await send('GET', `/v1/deals/${theirs.id}`, salesB)).statusCode, 200, 'the owner sees it');
});

t.test('GraphQL applies the same scope: deal, deals, dealsCount, dealHistory, Contact.deals, Company.deals', async (t) => {
  const one = await h.gql(salesA, 'query($id: ID!) { deal(id: $id) { id } }', { id: theirs.id });
  t.equal(one.body.errors?.[0]?.extensions.code, 'not_found');
  const hist = await h.gql(salesA, 'query($id: ID!) { dealHistory(id: $id) { edges { node { id } } } }', { id: theirs.id });
  t.equal(hist.body.errors?.[0]?.extensions.code, 'not_found');
  const listed = await h.gql(salesA, 'query($f: DealFilter) { deals(filter: $f, sort: [{field: name}]) { edges { node { id } } } dealsCount(filter: $f) }', {
    f: { name: { startsWith: tag } },
  });
  t.same(listed.body.errors, undefined);
  t.same(listed.body.data?.deals.edges.map((e: { node: { id: string } }) => e.node.id), [mine.id, teammates.id]);
  t.equal(listed.body.data?.dealsCount, 2);
  const rel = await h.gql(salesA, 'query($c: ID!, $k: ID!) { contact(id: $c) { deals { id } } company(id: $k) { deals { id } } }', { c: contact.id, k: company.id });
  t.same(rel.body.errors, undefined);
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();
  t.same(ids(rel.body.data?.contact.deals), [mine.id, teammates.id].sort(), 'Contact.deals scoped');
  t.same(ids(rel.body.data?.company.deals), [mine.id, teammates.id].sort(), 'Company.deals scoped');
  const adminRel = await h.gql(admin, 'query($c: ID!) { contact(id: $c) { deals { id } } }', { c: contact.id });
  t.equal(adminRel.body.data?.contact.deals.length, 4);
  const upd = await h.gql(salesA, 'mutation($id: ID!) { updateDeal(id: $id, input: {name: "x"}) { id } }', { id: theirs.id });
  t.equal(upd.body.errors?.[0]?.extensions.code, 'not_found');
});

t.test('sales writes its own and its team\'s deals but may not hand them out of its scope', async (t) => {
  t.equal((await send('PATCH', `/v1/deals/${teammates.id}`, salesA, { amount: '5', currency: 'SAR' })).statusCode, 200);
  const other = await send('POST', '/v1/deals', salesA, { ...base, name: 'For B', ownerId: salesB.id });
  t.equal(other.statusCode, 403);
  t.match(other.json(), { code: 'forbidden', errors: [{ path: 'ownerId' }] });
  const orphan = await send('POST', '/v1/deals', salesA, { ...base, name: 'Orphan', ownerId: null, teamId: null });
  t.equal(orphan.statusCode, 403, 'a deal nobody in scope owns would vanish');
  const away = await send('PATCH', `/v1/deals/${mine.id}`, salesA, { teamId: teamB });
  t.equal(away.statusCode, 403);
  const batch = await send('POST', '/v1/deals/batch', salesA, { operation: 'update', records: [{ id: mine.id, name: `${tag} mine` }, { id: theirs.id, name: 'Stolen' }] });
  t.match(batch.json().results, [{ status: 'unchanged' }, { status: 'error', error: { code: 'not_found' } }]);
  t.equal((await send('GET', `/v1/deals/${theirs.id}`, admin)).json().name, `${tag} theirs`);
});

t.test('support may not touch deals at all: 403 on every endpoint, REST and GraphQL', async (t) => {
  for (const [method, url, body] of [
    ['GET', '/v1/deals', undefined], ['GET', '/v1/deals/count', undefined], ['GET', `/v1/deals/${mine.id}`, undefined],
    ['GET', `/v1/deals/${mine.id}/history`, undefined], ['POST', '/v1/deals', { ...base, name: 'Support deal' }],
    ['PATCH', `/v1/deals/${mine.id}`, { name: 'Support' }], ['DELETE', `/v1/deals/${mine.id}`, undefined],
    ['POST', `/v1/deals/${mine.id}/restore`, undefined], ['POST', '/v1/deals/batch', { operation: 'create', records: [{ ...base, name: 'S' }] }],
  ] as const) {
    const res = await send(method, url, support, body);
    t.equal(res.statusCode, 403, `${method} ${url}`);
    t.equal(res.json().code, 'forbidden');
  }
  const q = await h.gql(support, '{ deals { edges { node { id } } } }');
  t.equal(q.body.errors?.[0]?.extensions.code, 'forbidden');
  const m = await h.gql(support, 'mutation($i: DealCreateInput!) { createDeal(input: $i) { id } }', { i: { ...base, name: 'Support' } });
  t.equal(m.body.errors?.[0]?.extensions.code, 'forbidden');
});

t.test('viewer and marketing read every deal but may not write', async (t) => {
  for (const who of [viewer, marketing]) {
    t.equal((await send('GET', `/v1/deals/${theirs.id}`, who)).statusCode, 200, `${who.role} reads`);
    t.equal((await send('GET', '/v1/deals/count', who, undefined, { 'filter[name][startsWith]': tag })).json().count, 4);
    for (const [method, url, body] of [
      ['POST', '/v1/deals', { ...base, name: 'Viewer deal' }], ['PATCH', `/v1/deals/${mine.id}`, { name: 'Viewer' }],
      ['DELETE', `/v1/deals/${mine.id}`, undefined], ['POST', '/v1/deals/batch', { operation: 'delete', records: [{ id: mine.id }] }],
    ] as const) {
      const res = await send(method, url, who, body);
      t.equal(res.statusCode, 403, `${who.role} ${method} ${url}`);
    }
    const m = await h.gql(who, 'mutation($id: ID!) { deleteDeal(id: $id) }', { id: mine.id });
    t.equal(m.body.errors?.[0]?.extensions.code, 'forbidden');
  }
  t.equal((await send('GET', `/v1/deals/${mine.id}`, admin)).json().deletedAt, null, 'nothing was deleted');
});
