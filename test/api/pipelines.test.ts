import { randomUUID } from 'node:crypto';
import t from 'tap';
import { and, asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';

// Pipelines and their stages over REST: the stage list rules, the single default, versions, roles, audit.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const manager = h.user('manager');

type Stage = { id: string; name: string; probability: number; position: number; kind: string };

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who = admin, payload?: unknown, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...who.auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

async function create(body: Record<string, unknown>) {
  const res = await call('POST', '/v1/pipelines', admin, body);
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const STAGES = [
  { name: 'Qualify', probability: 10 },
  { name: 'Proposal', probability: 40 },
  { name: 'Won', probability: 100, kind: 'won' },
  { name: 'Lost', probability: 0, kind: 'lost' },
];

/** A live deal in the stage, created through the deals API (owned by the admin). */
async function dealIn(pipelineId: string, stageId: string) {
  const res = await call('POST', '/v1/deals', admin, { name: `Deal ${randomUUID().slice(0, 8)}`, pipelineId, stageId });
  if (res.statusCode !== 201) throw new Error(`deal create failed: ${res.body}`);
  return res.json();
}

t.test('create answers the bare record: generated stage ids, positions from the index, kind open by default', async (t) => {
  const res = await call('POST', '/v1/pipelines', admin, { name: '  New Business ', stages: STAGES });
  t.equal(res.statusCode, 201);
  const p = res.json();
  t.equal(res.headers.location, `/v1/pipelines/${p.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(p, { name: 'New Business', isDefault: false, version: 1, deletedAt: null });
  t.same(p.stages.map((s: Stage) => [s.name, s.probability, s.position, s.kind]), [
    ['Qualify', 10, 0, 'open'], ['Proposal', 40, 1, 'open'], ['Won', 100, 2, 'won'], ['Lost', 0, 3, 'lost'],
  ]);
  t.ok(p.stages.every((s: Stage) => /^[0-9a-f-]{36}$/.test(s.id)), 'stage ids generated');
  t.same(Object.keys(p).sort(), ['createdAt', 'deletedAt', 'id', 'isDefault', 'name', 'stages', 'updatedAt', 'version']);

  const got = await call('GET', `/v1/pipelines/${p.id}`);
  t.equal(got.statusCode, 200);
  t.same(got.json(), p);

  const ordered = await create({ name: 'Explicit positions', stages: [{ name: 'B', probability: 50, position: 5 }, { name: 'A', probability: 20, position: 1 }] });
  t.same(ordered.stages.map((s: Stage) => s.name), ['A', 'B'], 'stages come ordered by position');
});

t.test('validation: every bad field is listed with its dotted path, nothing is written', async (t) => {
  const cases: [unknown, string[]][] = [
    [{ name: 'X', stages: [{ name: 'A', probability: 101 }] }, ['stages.0.probability']],
    [{ name: 'X', stages: [{ name: 'A', probability: 10.5 }] }, ['stages.0.probability']],
    [{ name: 'X', stages: [] }, ['stages']],
    [{ name: 'X' }, ['stages']],
    [{ name: 'X', stages: [{ name: 'A', probability: 1 }], colour: 'red' }, ['colour']],
    [{ name: 'X', stages: [{ name: 'A', probability: 1, kind: 'maybe' }] }, ['stages.0.kind']],
    [{ name: 'X', id: randomUUID(), version: 3, stages: [{ name: 'A', probability: 1 }] }, ['id', 'version']],
    [{ name: 'X', stages: [{ id: randomUUID(), name: 'A', probability: 1 }] }, ['stages.0.id']],
    [{ name: 'X', stages: [{ name: 'Same', probability: 1 }, { name: 'same', probability: 2 }] }, ['stages.1.name']],
    [{ name: 'X', stages: [{ name: 'A', probability: 1, position: 1 }, { name: 'B', probability: 2 }] }, ['stages.1.position']],
  ];
  for (const [body, paths] of cases) {
    const res = await call('POST', '/v1/pipelines', admin, body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.equal(res.json().code, 'validation_failed');
    t.same(res.json().errors.map((e: { path: string }) => e.path).sort(), paths, JSON.stringify(body));
  }
  const readOnly = await call('POST', '/v1/pipelines', admin, { name: 'X', version: 1, stages: [{ name: 'A', probability: 1 }] });
  t.match(readOnly.json().errors, [{ path: 'version', message: 'is read-only' }]);
  const count = await call('GET', '/v1/pipelines/count', admin, undefined);
  t.equal(count.json().count, 2, 'only the two pipelines of the first test exist');
});

t.test('PATCH renames, reorders, adds and removes stages from the whole new list', async (t) => {
  const p = await create({ name: 'Editable', stages: STAGES });
  const [qualify, proposal, won, lost] = p.stages as Stage[];
  const res = await call('PATCH', `/v1/pipelines/${p.id}`, admin, {
    name: 'Edited',
    stages: [
      { id: proposal?.id, name: 'Offer', probability: 60 },
      { id: qualify?.id },
      { name: 'Negotiate', probability: 75 },
      { id: won?.id },
    ],
  }, { 'if-match': '"1"' });
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.headers.etag, '"2"');
  const e = res.json();
  t.equal(e.name, 'Edited');
  t.equal(e.version, 2);
  t.same(e.stages.map((s: Stage) => [s.id === proposal?.id, s.name, s.probability, s.position, s.kind]), [
    [true, 'Offer', 60, 0, 'open'], [false, 'Qualify', 10, 1, 'open'], [false, 'Negotiate', 75, 2, 'open'], [false, 'Won', 100, 3, 'won'],
  ]);
  t.equal(e.stages[1].id, qualify?.id, 'ids are kept by listed stages');
  t.notOk(e.stages.some((s: Stage) => s.id === lost?.id), 'the unlisted stage is removed');

  const same = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { name: 'Edited' });
  t.equal(same.json().version, 2, 'a patch that changes nothing leaves the version');

  const unknown = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { stages: [{ id: qualify?.id }, { id: lost?.id }] });
  t.equal(unknown.statusCode, 400, 'a removed stage is no longer a stage of the pipeline');
  t.match(unknown.json(), { code: 'validation_failed', errors: [{ path: 'stages.1.id' }] });
  const missing = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { stages: [{ name: 'No probability' }] });
  t.match(missing.json(), { code: 'validation_failed', errors: [{ path: 'stages.0.probability' }] });
  const readOnly = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { version: 7, createdAt: '2020-01-01T00:00:00.000Z' });
  t.same(readOnly.json().errors.map((x: { path: string }) => x.path).sort(), ['createdAt', 'version']);
  t.equal((await call('GET', `/v1/pipelines/${p.id}`)).json().version, 2, 'refused patches wrote nothing');
});

t.test('version conflicts: a stale If-Match or expectedVersion is 412 with the current record', async (t) => {
  const p = await create({ name: 'Versioned', stages: [{ name: 'A', probability: 5 }] });
  await call('PATCH', `/v1/pipelines/${p.id}`, admin, { name: 'Versioned 2' });
  const stale = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { name: 'Versioned 3' }, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { id: p.id, version: 2, name: 'Versioned 2' } });
});

t.test('isDefault: one live default; setting another clears the previous one in the same write', async (t) => {
  const a = await create({ name: 'Default A', isDefault: true, stages: [{ name: 'Open', probability: 10 }] });
  const b = await create({ name: 'Default B', isDefault: true, stages: [{ name: 'Open', probability: 10 }] });
  t.equal(b.isDefault, true);
  const aNow = (await call('GET', `/v1/pipelines/${a.id}`)).json();
  t.match(aNow, { isDefault: false, version: 2 }, 'the previous default was cleared and its version bumped');
  const defaults = await call('GET', '/v1/pipelines', admin, undefined);
  t.same(defaults.json().data.filter((p: { isDefault: boolean }) => p.isDefault).map((p: { id: string }) => p.id), [b.id]);

  const back = await call('PATCH', `/v1/pipelines/${a.id}`, manager, { isDefault: true });
  t.equal(back.statusCode, 200);
  t.equal((await call('GET', `/v1/pipelines/${b.id}`)).json().isDefault, false);
  const filtered = await call('GET', '/v1/pipelines?filter[isDefault][eq]=true');
  t.same(filtered.json().data.map((p: { id: string }) => p.id), [a.id]);

  // a deleted default restored while another is the default comes back as non-default
  await call('DELETE', `/v1/pipelines/${a.id}`);
  await call('PATCH', `/v1/pipelines/${b.id}`, admin, { isDefault: true });
  const restored = await call('POST', `/v1/pipelines/${a.id}/restore`, manager);
  t.equal(restored.statusCode, 200);
  t.match(restored.json(), { deletedAt: null, isDefault: false });
});

t.test('list: filters, sorts, keyset pages with stages embedded; count', async (t) => {
  const tag = randomUUID().slice(0, 6);
  for (const n of ['c', 'a', 'b']) await create({ name: `L-${tag}-${n}`, stages: [{ name: `S-${n}`, probability: 1 }, { name: 'Won', probability: 100, kind: 'won' }] });
  const first = await call('GET', `/v1/pipelines?filter[name][startsWith]=L-${tag}&sort=name&limit=2`);
  t.equal(first.statusCode, 200);
  const page1 = first.json();
  t.same(page1.data.map((p: { name: string }) => p.name), [`L-${tag}-a`, `L-${tag}-b`]);
  t.same(page1.data[0].stages.map((s: Stage) => s.name), ['S-a', 'Won'], 'stages embedded in list items');
  t.type(page1.nextCursor, 'string');
  const second = (await call('GET', `/v1/pipelines?filter[name][startsWith]=L-${tag}&sort=name&limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`)).json();
  t.same(second.data.map((p: { name: string }) => p.name), [`L-${tag}-c`]);
  t.equal(second.nextCursor, null);
  const count = await call('GET', `/v1/pipelines/count?filter[name][startsWith]=L-${tag}`);
  t.same(count.json(), { count: 3 });
  const badSort = await call('GET', '/v1/pipelines?sort=stages');
  t.match(badSort.json(), { code: 'validation_failed', errors: [{ path: 'sort' }] });
  const badFilter = await call('GET', '/v1/pipelines?filter[probability][eq]=1');
  t.match(badFilter.json(), { code: 'validation_failed', errors: [{ path: 'filter.probability' }] });
});

t.test('deals pin their stages and pipeline: removing or re-kinding a stage with live deals, or deleting the pipeline, is 409', async (t) => {
  const p = await create({ name: 'With deals', stages: STAGES });
  const [qualify, proposal, won] = p.stages as Stage[];
  await dealIn(p.id, proposal!.id);

  const remove = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { stages: [{ id: qualify!.id }, { id: won!.id }] });
  t.equal(remove.statusCode, 409);
  t.match(remove.json(), { code: 'conflict', detail: /"Proposal"/ });
  const rekind = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { stages: p.stages.map((s: Stage) => (s.id === proposal!.id ? { id: s.id, kind: 'won' } : { id: s.id })) });
  t.equal(rekind.statusCode, 409);
  t.match(rekind.json(), { code: 'conflict', errors: [{ path: 'stages.1.kind' }] });
  const reprob = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { stages: p.stages.map((s: Stage) => (s.id === proposal!.id ? { id: s.id, probability: 55, name: 'Offer' } : { id: s.id })) });
  t.equal(reprob.statusCode, 200, 'renaming and re-weighting a stage with deals is fine');
  const del = await call('DELETE', `/v1/pipelines/${p.id}`);
  t.equal(del.statusCode, 409);
  t.match(del.json(), { code: 'conflict' });
  const removeEmpty = await call('PATCH', `/v1/pipelines/${p.id}`, admin, { stages: [{ id: proposal!.id }, { id: won!.id }] });
  t.equal(removeEmpty.statusCode, 200, 'stages without deals can go');
  t.equal(removeEmpty.json().stages.length, 2);
});

t.test('delete is soft; restore is for admin and manager; deleted records are 404 unless includeDeleted', async (t) => {
  const p = await create({ name: 'Doomed', stages: [{ name: 'A', probability: 1 }] });
  t.equal((await call('DELETE', `/v1/pipelines/${p.id}`)).statusCode, 204);
  t.equal((await call('GET', `/v1/pipelines/${p.id}`)).statusCode, 404);
  const seen = await call('GET', `/v1/pipelines/${p.id}?includeDeleted=true`);
  t.equal(seen.statusCode, 200);
  t.type(seen.json().deletedAt, 'string');
  t.same(seen.json().stages.map((s: Stage) => s.name), ['A'], 'its stages are kept');
  t.equal((await call('GET', `/v1/pipelines/${p.id}?includeDeleted=true`, h.user('viewer'))).statusCode, 403);
  t.equal((await call('DELETE', `/v1/pipelines/${p.id}`)).statusCode, 404, 'deleting twice is 404');
  t.equal((await call('POST', `/v1/pipelines/${p.id}/restore`, h.user('sales'))).statusCode, 403);
  const r = await call('POST', `/v1/pipelines/${p.id}/restore`, manager);
  t.equal(r.statusCode, 200);
  t.match(r.json(), { id: p.id, deletedAt: null, version: 3 });
  t.equal((await call('GET', `/v1/pipelines/${randomUUID()}`)).statusCode, 404);
});

t.test('roles: config is written by admin and manager only, read by everyone; no token is 401', async (t) => {
  const p = await create({ name: 'Roles', stages: [{ name: 'A', probability: 1 }] });
  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    const u = h.user(role);
    t.equal((await call('GET', `/v1/pipelines/${p.id}`, u)).statusCode, 200, `${role} reads`);
    t.equal((await call('GET', '/v1/pipelines', u)).statusCode, 200, `${role} lists`);
    const post = await call('POST', '/v1/pipelines', u, { name: 'Nope', stages: [{ name: 'A', probability: 1 }] });
    t.equal(post.statusCode, 403, `${role} may not create`);
    t.equal(post.json().code, 'forbidden');
    t.equal((await call('PATCH', `/v1/pipelines/${p.id}`, u, { name: 'Nope' })).statusCode, 403, `${role} may not patch`);
    t.equal((await call('DELETE', `/v1/pipelines/${p.id}`, u)).statusCode, 403, `${role} may not delete`);
  }
  const m = await call('POST', '/v1/pipelines', manager, { name: 'By manager', stages: [{ name: 'A', probability: 1 }] });
  t.equal(m.statusCode, 201);
  const anon = await h.request({ method: 'GET', url: '/v1/pipelines' });
  t.equal(anon.statusCode, 401);
  t.equal(anon.json().code, 'unauthenticated');
});

t.test('each write leaves one audit row and one event with before/after including stages', async (t) => {
  const p = await create({ name: 'Audited', stages: [{ name: 'A', probability: 1 }] });
  await call('PATCH', `/v1/pipelines/${p.id}`, admin, { stages: [{ id: p.stages[0].id, probability: 30 }] });
  await call('DELETE', `/v1/pipelines/${p.id}`);
  await call('POST', `/v1/pipelines/${p.id}/restore`);
  const audit = await db.select().from(auditLogs).where(and(eq(auditLogs.entityId, p.id), eq(auditLogs.entityType, 'pipeline'))).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
  t.same(audit.map((a) => a.action), ['create', 'update', 'delete', 'restore']);
  t.match(audit[0]?.after, { name: 'Audited', stages: [{ name: 'A', probability: 1 }] });
  t.match(audit[1], { before: { stages: [{ probability: 1 }] }, after: { stages: [{ probability: 30 }] }, actorId: admin.id });
  const evs = await db.select().from(events).where(eq(events.entityId, p.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.same(evs.map((e) => e.type), ['pipeline.created', 'pipeline.updated', 'pipeline.deleted', 'pipeline.restored']);
  t.match(evs[1]?.data, { before: { version: 1 }, after: { version: 2, stages: [{ probability: 30 }] } });
});
