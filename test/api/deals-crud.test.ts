import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';

// One deal through REST: create with defaults and references, validation, status/closedAt/lostReason
// following the stage, merge patch with If-Match, delete/restore, lists with filters, q, include and
// fields, the events and audit rows every write leaves, Idempotency-Key and batches.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin', { teamIds: [randomUUID()] });

const post = (url: string, body: unknown, who = admin, headers: Record<string, string> = {}) =>
  h.request({ method: 'POST', url, headers: { ...who.auth, ...headers }, payload: body as object });
const get = (id: string, query: Record<string, string> = {}) => h.request({ method: 'GET', url: `/v1/deals/${id}`, headers: admin.auth, query });
const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  h.request({ method: 'PATCH', url: `/v1/deals/${id}`, headers: { ...admin.auth, ...headers }, payload: body as object });
const list = (query: Record<string, string>) => h.request({ method: 'GET', url: '/v1/deals', headers: admin.auth, query });

async function created(url: string, body: unknown) {
  const res = await post(url, body);
  if (res.statusCode !== 201) throw new Error(`POST ${url} failed: ${res.body}`);
  return res.json();
}

const pipeline = await created('/v1/pipelines', {
  name: 'Sales', stages: [
    { name: 'Lead', probability: 10 }, { name: 'Proposal', probability: 50 },
    { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' },
  ],
});
const other = await created('/v1/pipelines', { name: 'Renewals', stages: [{ name: 'Due', probability: 30 }] });
const [lead, proposal, won, lost] = pipeline.stages.map((s: { id: string }) => s.id) as [string, string, string, string];
const company = await created('/v1/companies', { name: 'Deal Co' });
const c1 = await created('/v1/contacts', { firstName: 'Ada', lastName: 'One' });
const c2 = await created('/v1/contacts', { firstName: 'Bo', lastName: 'Two' });
const base = { pipelineId: pipeline.id, stageId: lead };

async function createDeal(body: Record<string, unknown>) {
  return created('/v1/deals', { ...base, ...body });
}

t.test('create answers 201 with Location, ETag, defaults, references and contacts in order', async (t) => {
  const res = await post('/v1/deals', {
    ...base, name: 'Big Deal', amount: '1500.5', currency: 'SAR', expectedCloseDate: '2030-03-31',
    companyId: company.id, contactIds: [c2.id, c1.id],
  });
  t.equal(res.statusCode, 201);
  const d = res.json();
  t.equal(res.headers.location, `/v1/deals/${d.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(d, {
    name: 'Big Deal', pipelineId: pipeline.id, stageId: lead, amount: '1500.50', currency: 'SAR', expectedCloseDate: '2030-03-31',
    companyId: company.id, contactIds: [c2.id, c1.id], status: 'open', lostReason: null, closedAt: null, position: 0,
    ownerId: admin.id, teamId: admin.teamIds[0], version: 1, deletedAt: null, custom: {}, leadId: null,
  });
  t.match(d.stageEnteredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.same((await get(d.id)).json(), d, 'what create answered is what is stored');
  const second = await createDeal({ name: 'Second' });
  t.equal(second.position, 1, 'a new deal goes to the end of its stage');
});

t.test('validation: unknown, read-only and bad values are 400; missing references 422; nothing written', async (t) => {
  for (const [body, path, message] of [
    [{ ...base, name: 'V', mood: 'good' }, 'mood', /not a known field/],
    [{ ...base, name: 'V', status: 'won' }, 'status', /read-only/],
    [{ ...base, name: 'V', closedAt: '2030-01-01T00:00:00Z' }, 'closedAt', /read-only/],
    [{ ...base, name: 'V', version: 2 }, 'version', /read-only/],
    [{ ...base, name: 'V', amount: '10.001', currency: 'SAR' }, 'amount', /decimals/],
    [{ ...base, name: 'V', amount: '10' }, 'currency', /required/],
    [{ ...base, name: 'V', amount: 10, currency: 'SAR' }, 'amount', /./],
    [{ ...base, name: 'V', expectedCloseDate: '2030-02-30' }, 'expectedCloseDate', /./],
    [{ ...base, name: 'V', contactIds: [c1.id, c1.id] }, 'contactIds', /repeat/],
    [{ pipelineId: pipeline.id, stageId: lead }, 'name', /./],
    [{ ...base, name: 'V', stageId: other.stages[0].id }, 'stageId', /not a stage of pipeline/],
    [{ ...base, name: 'V', stageId: lost }, 'lostReason', /required/],
    [{ ...base, name: 'V', lostReason: 'price' }, 'lostReason', /only lost deals/],
  ] as const) {
    const res = await post('/v1/deals', body);
    t.equal(res.statusCode, 400, `${path} refused`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path, message }] }, path);
  }
  for (const [body, path] of [
    [{ ...base, name: 'V', stageId: randomUUID() }, 'stageId'],
    [{ ...base, name: 'V', pipelineId: randomUUID() }, 'pipelineId'],
    [{ ...base, name: 'V', companyId: randomUUID() }, 'companyId'],
    [{ ...base, name: 'V', contactIds: [c1.id, randomUUID()] }, 'contactIds.1'],
  ] as const) {
    const res = await post('/v1/deals', body);
    t.equal(res.statusCode, 422, `${path} reference refused`);
    t.match(res.json(), { code: 'invalid_reference', errors: [{ path }] });
  }
  t.equal((await h.request({ method: 'GET', url: '/v1/deals/count', headers: admin.auth, query: { 'filter[name][eq]': 'V' } })).json().count, 0);
});

t.test('status, closedAt and lostReason follow the stage', async (t) => {
  const d = await createDeal({ name: 'Follow' });
  const toWon = (await patch(d.id, { stageId: won })).json();
  t.match(toWon, { status: 'won', stageId: won, version: 2 });
  t.ok(toWon.closedAt, 'closedAt set on entering a won stage');

  const noReason = await patch(d.id, { stageId: lost });
  t.equal(noReason.statusCode, 400);
  t.match(noReason.json(), { errors: [{ path: 'lostReason', message: /required/ }] });
  const toLost = (await patch(d.id, { stageId: lost, lostReason: 'Too expensive' })).json();
  t.match(toLost, { status: 'lost', lostReason: 'Too expensive' });
  t.ok(toLost.closedAt);
  const cleared = await patch(d.id, { lostReason: null });
  t.equal(cleared.statusCode, 400, 'a lost deal keeps a reason');

  const reopened = (await patch(d.id, { stageId: proposal })).json();
  t.match(reopened, { status: 'open', lostReason: null, closedAt: null, stageId: proposal });
  t.equal((await patch(d.id, { lostReason: 'x' })).statusCode, 400, 'an open deal has no lostReason');

  const bornLost = await createDeal({ name: 'Born lost', stageId: lost, lostReason: 'No budget' });
  t.match(bornLost, { status: 'lost', lostReason: 'No budget' });
  t.ok(bornLost.closedAt);
});

t.test('pipelines: moving needs a stage of the new pipeline', async (t) => {
  const d = await createDeal({ name: 'Mover' });
  const noStage = await patch(d.id, { pipelineId: other.id });
  t.equal(noStage.statusCode, 400);
  t.match(noStage.json(), { errors: [{ path: 'stageId' }] });
  const wrong = await patch(d.id, { stageId: other.stages[0].id });
  t.equal(wrong.statusCode, 400, 'a stage of another pipeline without moving the pipeline');
  const moved = await patch(d.id, { pipelineId: other.id, stageId: other.stages[0].id });
  t.equal(moved.statusCode, 200);
  t.match(moved.json(), { pipelineId: other.id, stageId: other.stages[0].id, position: 0 });
});

t.test('PATCH merges, keeps the version on no-op, 412 on a stale If-Match', async (t) => {
  const d = await createDeal({ name: 'Patchy', amount: '10.5', currency: 'KWD', contactIds: [c1.id], custom: {} });
  const p = (await patch(d.id, { name: 'Patchy 2', contactIds: [c2.id, c1.id], expectedCloseDate: '2031-01-01' })).json();
  t.match(p, { name: 'Patchy 2', amount: '10.500', contactIds: [c2.id, c1.id], expectedCloseDate: '2031-01-01', version: 2 });
  t.equal((await patch(d.id, { name: 'Patchy 2' })).json().version, 2, 'nothing changed, no new version');
  const bad = await patch(d.id, { currency: 'JPY' });
  t.equal(bad.statusCode, 400, '10.5 does not fit JPY');
  t.match(bad.json(), { errors: [{ path: 'currency', message: /fewer decimals/ }] });
  const stale = await patch(d.id, { name: 'Stale' }, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { id: d.id, version: 2, name: 'Patchy 2' } });
  const fresh = await patch(d.id, { name: 'Fresh' }, { 'if-match': '"2"' });
  t.equal(fresh.statusCode, 200);
  t.equal(fresh.headers.etag, '"3"');
  for (const [body, path] of [[{ status: 'won' }, 'status'], [{ version: 9 }, 'version'], [{ closedAt: null }, 'closedAt'], [{ name: null }, 'name']] as const) {
    const res = await patch(d.id, body);
    t.equal(res.statusCode, 400, `${path} refused in a patch`);
    t.match(res.json(), { errors: [{ path }] });
  }
});

t.test('delete, read deleted, restore', async (t) => {
  const d = await createDeal({ name: 'Gone' });
  t.equal((await h.request({ method: 'DELETE', url: `/v1/deals/${d.id}`, headers: admin.auth })).statusCode, 204);
  t.equal((await get(d.id)).statusCode, 404);
  t.match((await get(d.id, { includeDeleted: 'true' })).json(), { id: d.id, deletedAt: /Z$/ });
  t.equal((await patch(d.id, { name: 'Zombie' })).statusCode, 404, 'a deleted deal cannot be changed');
  const sales = h.user('sales', { id: admin.id, teamIds: admin.teamIds });
  t.equal((await post(`/v1/deals/${d.id}/restore`, undefined, sales)).statusCode, 403, 'restore is managerial');
  const restored = await post(`/v1/deals/${d.id}/restore`, undefined);
  t.equal(restored.statusCode, 200);
  t.match(restored.json(), { id: d.id, deletedAt: null });
  t.equal(restored.headers.etag, `"${restored.json().version}"`);
});

t.test('every write leaves its audit row and events in the outbox', async (t) => {
  const d = await createDeal({ name: 'Evented' });
  await patch(d.id, { name: 'Evented 2' });
  await patch(d.id, { stageId: won });
  await patch(d.id, { stageId: lost, lostReason: 'Changed mind' });
  await h.request({ method: 'DELETE', url: `/v1/deals/${d.id}`, headers: admin.auth });
  await post(`/v1/deals/${d.id}/restore`, undefined);
  const evs = await db.select().from(events).where(eq(events.entityId, d.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.same(evs.map((e) => e.type), [
    'deal.created', 'deal.updated', 'deal.updated', 'deal.stage_changed', 'deal.won',
    'deal.updated', 'deal.stage_changed', 'deal.lost', 'deal.deleted', 'deal.restored',
  ]);
  const change = evs[3]!.data as { before: { stageId: string }; after: { stageId: string; status: string } };
  t.match(change, { before: { stageId: lead }, after: { stageId: won, status: 'won' } });
  t.match(evs[0]!.data, { before: null, after: { id: d.id, name: 'Evented' } });
  const audits = await db.select().from(auditLogs).where(eq(auditLogs.entityId, d.id)).orderBy(asc(auditLogs.occurredAt));
  t.same(audits.map((a) => a.action), ['create', 'update', 'update', 'update', 'delete', 'restore']);
  t.match(audits[1], { actorId: admin.id, entityType: 'deal', before: { name: 'Evented' }, after: { name: 'Evented 2' } });
});

t.test('lists: filters, sorts, q, include and fields; count', async (t) => {
  const tag = `L${randomUUID().slice(0, 6)}`;
  const a = await createDeal({ name: `${tag} Alpha`, amount: '100', currency: 'SAR', companyId: company.id, contactIds: [c1.id, c2.id] });
  const b = await createDeal({ name: `${tag} Bravo`, amount: '900', currency: 'SAR', stageId: won, expectedCloseDate: '2030-06-01' });
  await createDeal({ name: `${tag} Charlie`, stageId: proposal });
  const names = async (query: Record<string, string>) => {
    const res = await list({ 'filter[name][startsWith]': tag, ...query });
    t.equal(res.statusCode, 200, JSON.stringify(query));
    return res.json().data.map((d: { name: string }) => d.name.slice(tag.length + 1));
  };
  t.same(await names({ sort: 'name' }), ['Alpha', 'Bravo', 'Charlie']);
  t.same(await names({ 'filter[status][eq]': 'won' }), ['Bravo']);
  t.same(await names({ 'filter[stageId][in]': `${lead},${proposal}`, sort: '-name' }), ['Charlie', 'Alpha']);
  t.same(await names({ 'filter[amount][gt]': '500' }), ['Bravo']);
  t.same(await names({ 'filter[expectedCloseDate][isNull]': 'false' }), ['Bravo']);
  t.same(await names({ 'filter[companyId][eq]': company.id }), ['Alpha']);
  t.same(await names({ sort: '-amount,name' }), ['Charlie', 'Bravo', 'Alpha'], 'nulls first when descending');
  t.same(await names({ q: `${tag.toLowerCase()} brav` }), ['Bravo']);
  const bad = await list({ 'filter[lostReason][eq]': 'x' });
  t.equal(bad.statusCode, 400, 'not a filterable field');

  const inc = await list({ 'filter[id][eq]': a.id, include: 'company,owner,contacts' });
  t.match(inc.json().data[0], { company: { id: company.id, name: 'Deal Co' }, owner: null, contacts: [{ id: c1.id }, { id: c2.id }] });
  const sparse = await list({ 'filter[id][eq]': b.id, fields: 'name,status' });
  t.same(sparse.json().data, [{ id: b.id, name: `${tag} Bravo`, status: 'won' }]);
  const one = await get(a.id, { fields: 'amount', include: 'company' });
  t.same(Object.keys(one.json()).sort(), ['amount', 'company', 'id']);
  const count = await h.request({ method: 'GET', url: '/v1/deals/count', headers: admin.auth, query: { 'filter[name][startsWith]': tag, 'filter[status][eq]': 'open' } });
  t.equal(count.json().count, 2);
});

t.test('Idempotency-Key: a replay answers the first response and writes once', async (t) => {
  const key = randomUUID();
  const body = { ...base, name: 'Idem deal' };
  const first = await post('/v1/deals', body, admin, { 'idempotency-key': key });
  const second = await post('/v1/deals', body, admin, { 'idempotency-key': key });
  t.equal(first.statusCode, 201);
  t.equal(second.statusCode, 201);
  t.equal(second.body, first.body);
  t.equal(second.headers['idempotent-replayed'], 'true');
  const count = await h.request({ method: 'GET', url: '/v1/deals/count', headers: admin.auth, query: { 'filter[name][eq]': 'Idem deal' } });
  t.equal(count.json().count, 1);
  t.equal((await post('/v1/deals', { ...body, name: 'Other' }, admin, { 'idempotency-key': key })).statusCode, 422);
});

t.test('batch: per-record results, partial failure, atomic', async (t) => {
  const existing = await createDeal({ name: 'Batch existing' });
  const res = await post('/v1/deals/batch', {
    operation: 'create',
    records: [{ ...base, name: 'Batch A' }, { ...base, name: 'Batch B', stageId: other.stages[0].id }, { ...base, name: 'Batch C', status: 'won' }, { ...base, name: 'Batch D' }],
  });
  t.equal(res.statusCode, 200);
  const results = res.json().results;
  t.same(results.map((r: { status: string }) => r.status), ['created', 'error', 'error', 'created']);
  t.match(results[1], { error: { code: 'validation_failed', errors: [{ path: 'stageId' }] } });
  t.match(results[2], { error: { errors: [{ path: 'status', message: 'is read-only' }] } });
  const positions = await Promise.all([results[0].id, results[3].id].map(async (id: string) => (await get(id)).json().position));
  t.equal(positions[1], positions[0] + 1, 'batch creates line up at the end of the stage');

  const upd = await post('/v1/deals/batch', {
    operation: 'update', records: [{ id: existing.id, stageId: won }, { id: randomUUID(), name: 'nobody' }, { id: results[0].id, name: 'Batch A' }],
  });
  t.same(upd.json().results.map((r: { status: string }) => r.status), ['updated', 'error', 'unchanged']);
  t.equal((await get(existing.id)).json().status, 'won');

  const atomic = await post('/v1/deals/batch', { operation: 'create', atomic: true, records: [{ ...base, name: 'Atomic A' }, { ...base, name: 'Atomic B', amount: '1' }] });
  t.equal(atomic.statusCode, 400);
  t.match(atomic.json(), { errors: [{ path: 'records.1.currency' }] });
  t.equal((await list({ 'filter[name][eq]': 'Atomic A' })).json().data.length, 0, 'atomic: nothing written');

  const del = await post('/v1/deals/batch', { operation: 'delete', records: [{ id: results[3].id }] });
  t.match(del.json().results, [{ status: 'deleted', id: results[3].id }]);
});

t.test('custom fields of entity deal: validated on write, filterable and sortable', async (t) => {
  await created('/v1/custom-fields', { entity: 'deal', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] });
  const gold = await createDeal({ name: 'Custom gold', custom: { tier: 'gold' } });
  t.same(gold.custom, { tier: 'gold' });
  const bad = await post('/v1/deals', { ...base, name: 'Custom bad', custom: { tier: 'bronze' } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { errors: [{ path: 'custom.tier' }] });
  const unknown = await patch(gold.id, { custom: { colour: 'red' } });
  t.match(unknown.json(), { errors: [{ path: 'custom.colour', message: /not a defined custom field/ }] });
  const found = await list({ 'filter[custom.tier][eq]': 'gold', sort: 'custom.tier' });
  t.same(found.json().data.map((d: { id: string }) => d.id), [gold.id]);
});
