import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Pipelines over POST /graphql: the same service, rules and error codes as REST (API.md §5b).

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const FIELDS = 'id version name isDefault deletedAt createdAt updatedAt stages { id name probability position kind }';
const CREATE = `mutation($input: PipelineCreateInput!) { createPipeline(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: PipelinePatchInput!, $v: Int) { updatePipeline(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;

async function gql(query: string, variables?: Record<string, unknown>, who: ReturnType<typeof h.user> = admin) {
  const res = await h.gql(who, query, variables);
  const errors = res.body.errors ?? [];
  return { status: res.status, data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}

async function create(input: Record<string, unknown>) {
  const r = await gql(CREATE, { input });
  if (!r.data?.createPipeline) throw new Error(`create failed: ${JSON.stringify(r.errors)}`);
  return r.data.createPipeline;
}

const paths = (r: { errors: { extensions: { errors?: { path: string }[] } }[] }) => (r.errors[0]?.extensions.errors ?? []).map((e) => e.path).sort();

t.test('createPipeline and pipeline(id) answer the stored record, as REST does', async (t) => {
  const p = await create({ name: 'Graph Pipe', isDefault: true, stages: [{ name: 'Open', probability: 20 }, { name: 'Closed', probability: 100, kind: 'won' }] });
  t.match(p, { version: 1, isDefault: true, stages: [{ name: 'Open', probability: 20, position: 0, kind: 'open' }, { name: 'Closed', position: 1, kind: 'won' }] });
  const one = await gql(`query($id: ID!) { pipeline(id: $id) { ${FIELDS} } }`, { id: p.id });
  t.same(one.errors, []);
  t.same(one.data?.pipeline, p);
  const rest = await h.request({ method: 'GET', url: `/v1/pipelines/${p.id}`, headers: admin.auth });
  t.same(rest.json(), p, 'REST sees the same record');
  const missing = await gql(`query($id: ID!) { pipeline(id: $id) { id } }`, { id: randomUUID() });
  t.same(missing.codes, ['not_found']);
});

t.test('updatePipeline edits the stage list; unknown stage ids, bad values and stale versions fail like REST', async (t) => {
  const p = await create({ name: 'Graph Edit', stages: [{ name: 'A', probability: 10 }, { name: 'B', probability: 20 }] });
  const [a, b] = p.stages;
  const ok = await gql(UPDATE, { id: p.id, v: 1, input: { name: 'Graph Edited', stages: [{ id: b.id, probability: 30 }, { id: a.id }, { name: 'C', probability: 90, kind: 'won' }] } });
  t.same(ok.errors, []);
  t.same(ok.data?.updatePipeline.stages.map((s: { name: string; probability: number; position: number }) => [s.name, s.probability, s.position]), [['B', 30, 0], ['A', 10, 1], ['C', 90, 2]]);
  t.equal(ok.data?.updatePipeline.version, 2);

  const stale = await gql(UPDATE, { id: p.id, v: 1, input: { name: 'Stale' } });
  t.same(stale.codes, ['version_conflict']);
  const unknown = await gql(UPDATE, { id: p.id, input: { stages: [{ id: randomUUID() }] } });
  t.same(unknown.codes, ['validation_failed']);
  t.same(paths(unknown), ['stages.0.id']);
  // two stages, as REST: the shape (zod) first, then the list rules (names unique ignoring case)
  const bad = await gql(CREATE, { input: { name: 'Bad', stages: [{ name: 'A', probability: 101 }, { name: 'B', probability: -1 }] } });
  t.same(bad.codes, ['validation_failed']);
  t.same(paths(bad), ['stages.0.probability', 'stages.1.probability']);
  const dup = await gql(CREATE, { input: { name: 'Bad', stages: [{ name: 'A', probability: 1 }, { name: 'a', probability: 5 }] } });
  t.same(paths(dup), ['stages.1.name']);
  const empty = await gql(CREATE, { input: { name: 'Empty', stages: [] } });
  t.same(paths(empty), ['stages']);
  const unknownField = await gql(CREATE, { input: { name: 'X', colour: 'red', stages: [{ name: 'A', probability: 1 }] } });
  t.same(unknownField.codes, ['validation_failed'], 'a field the input type lacks is refused by the schema');
});

t.test('pipelines connection pages with stages; pipelinesCount; delete and restore', async (t) => {
  const tag = randomUUID().slice(0, 6);
  const made = [];
  for (const n of ['x', 'y', 'z']) made.push(await create({ name: `G-${tag}-${n}`, stages: [{ name: `S-${n}`, probability: 1 }] }));
  const LIST = `query($filter: PipelineFilter, $sort: [PipelineSort!], $first: Int, $after: String) {
    pipelines(filter: $filter, sort: $sort, first: $first, after: $after) { edges { cursor node { id name stages { name } } } pageInfo { hasNextPage endCursor } } }`;
  const filter = { name: { startsWith: `G-${tag}` } };
  const page1 = await gql(LIST, { filter, sort: [{ field: 'name', direction: 'DESC' }], first: 2 });
  t.same(page1.data?.pipelines.edges.map((e: { node: { name: string } }) => e.node.name), [`G-${tag}-z`, `G-${tag}-y`]);
  t.same(page1.data?.pipelines.edges[0].node.stages, [{ name: 'S-z' }]);
  t.equal(page1.data?.pipelines.pageInfo.hasNextPage, true);
  const page2 = await gql(LIST, { filter, sort: [{ field: 'name', direction: 'DESC' }], first: 2, after: page1.data?.pipelines.pageInfo.endCursor });
  t.same(page2.data?.pipelines.edges.map((e: { node: { name: string } }) => e.node.name), [`G-${tag}-x`]);
  const count = await gql('query($filter: PipelineFilter) { pipelinesCount(filter: $filter) }', { filter });
  t.equal(count.data?.pipelinesCount, 3);

  const del = await gql('mutation($id: ID!) { deletePipeline(id: $id) }', { id: made[0].id });
  t.equal(del.data?.deletePipeline, true);
  t.equal((await gql('query($filter: PipelineFilter) { pipelinesCount(filter: $filter) }', { filter })).data?.pipelinesCount, 2);
  const restored = await gql(`mutation($id: ID!) { restorePipeline(id: $id) { ${FIELDS} } }`, { id: made[0].id });
  t.match(restored.data?.restorePipeline, { id: made[0].id, deletedAt: null, version: 3 });
});

t.test('roles: only admin and manager write; everyone reads', async (t) => {
  const p = await create({ name: 'Graph Roles', stages: [{ name: 'A', probability: 1 }] });
  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    const u = h.user(role);
    const read = await gql(`query($id: ID!) { pipeline(id: $id) { id name } }`, { id: p.id }, u);
    t.same(read.errors, [], `${role} reads`);
    const write = await gql(CREATE, { input: { name: 'Nope', stages: [{ name: 'A', probability: 1 }] } }, u);
    t.same(write.codes, ['forbidden'], `${role} may not create`);
    const upd = await gql(UPDATE, { id: p.id, input: { name: 'Nope' } }, u);
    t.same(upd.codes, ['forbidden'], `${role} may not update`);
  }
  const byManager = await gql(UPDATE, { id: p.id, input: { name: 'Managed' } }, h.user('manager'));
  t.equal(byManager.data?.updatePipeline.name, 'Managed');
  const anon = await h.gql(undefined, '{ pipelinesCount }');
  t.equal(anon.body.errors?.[0]?.extensions.code, 'unauthenticated');
});
