import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';

// One activity through REST: defaults, validation (task-only fields, references), merge patch with
// If-Match, soft delete and restore, and the audit row and event each change leaves.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin', { teamIds: [randomUUID()] });

const post = (url: string, body: unknown, who = admin) => h.request({ method: 'POST', url, headers: who.auth, payload: body as object });
const get = (id: string, query: Record<string, string> = {}) => h.request({ method: 'GET', url: `/v1/activities/${id}`, headers: admin.auth, query });
const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  h.request({ method: 'PATCH', url: `/v1/activities/${id}`, headers: { ...admin.auth, ...headers }, payload: body as object });

async function create(body: Record<string, unknown>) {
  const res = await post('/v1/activities', body);
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const contact = (await post('/v1/contacts', { firstName: 'Act', lastName: 'Ivity' })).json();
const company = (await post('/v1/companies', { name: 'Activity Co' })).json();

t.test('create answers 201 with Location, ETag, defaults and the links', async (t) => {
  const before = Date.now();
  const res = await post('/v1/activities', { type: 'call', subject: 'Intro call', direction: 'outbound', contactId: contact.id, companyId: company.id });
  t.equal(res.statusCode, 201);
  const a = res.json();
  t.equal(res.headers.location, `/v1/activities/${a.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(a, {
    type: 'call', subject: 'Intro call', direction: 'outbound', contactId: contact.id, companyId: company.id,
    dueAt: null, completedAt: null, dealId: null, ownerId: admin.id, teamId: admin.teamIds[0], version: 1, deletedAt: null,
  });
  t.ok(Date.parse(a.occurredAt) >= before - 1000, 'occurredAt defaults to now');
  t.match(a.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.same((await get(a.id)).json(), a, 'what create answered is what is stored');

  const task = await create({ type: 'task', subject: 'Send quote', dueAt: '2030-01-02T10:00:00+03:00' });
  t.equal(task.dueAt, '2030-01-02T07:00:00.000Z', 'times are stored and answered in UTC');
  t.equal(task.completedAt, null);

  const dangling = await post('/v1/activities', { type: 'note', dealId: randomUUID() });
  t.equal(dangling.statusCode, 422, 'a dealId that names no deal is refused by the foreign key');
  t.equal(dangling.json().errors[0].path, 'dealId');
});

t.test('validation: unknown, read-only, bad enum, missing type, task-only fields, null occurredAt', async (t) => {
  for (const [body, path, message] of [
    [{ type: 'call', mood: 'happy' }, 'mood', /not a known field/],
    [{ type: 'call', version: 3 }, 'version', /read-only/],
    [{ type: 'call', id: randomUUID() }, 'id', /read-only/],
    [{ type: 'fax' }, 'type', /./],
    [{ subject: 'no type' }, 'type', /./],
    [{ type: 'call', direction: 'sideways' }, 'direction', /./],
    [{ type: 'call', dueAt: '2030-01-01T00:00:00Z' }, 'dueAt', /only tasks/],
    [{ type: 'note', completedAt: '2030-01-01T00:00:00Z' }, 'completedAt', /only tasks/],
    [{ type: 'call', occurredAt: 'yesterday' }, 'occurredAt', /./],
    [{ type: 'call', contactId: 'nope' }, 'contactId', /./],
  ] as const) {
    const res = await post('/v1/activities', body);
    t.equal(res.statusCode, 400, `${path} refused`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path, message }] });
  }
  const count = await h.request({ method: 'GET', url: '/v1/activities/count', headers: admin.auth, query: { 'filter[type][eq]': 'note' } });
  t.equal(count.json().count, 0, 'nothing written');
});

t.test('a contact or company that does not exist (or is deleted) is 422 invalid_reference', async (t) => {
  const missing = await post('/v1/activities', { type: 'call', contactId: randomUUID(), companyId: randomUUID() });
  t.equal(missing.statusCode, 422);
  t.match(missing.json(), { code: 'invalid_reference', status: 422 });
  t.same(missing.json().errors.map((e: { path: string }) => e.path), ['contactId', 'companyId']);

  const gone = (await post('/v1/companies', { name: 'Gone Co' })).json();
  t.equal((await h.request({ method: 'DELETE', url: `/v1/companies/${gone.id}`, headers: admin.auth })).statusCode, 204);
  const deleted = await post('/v1/activities', { type: 'call', companyId: gone.id });
  t.equal(deleted.statusCode, 422, 'a deleted company is no reference');

  const a = await create({ type: 'call' });
  const bad = await patch(a.id, { contactId: randomUUID() });
  t.equal(bad.statusCode, 422);
  t.match(bad.json(), { code: 'invalid_reference', errors: [{ path: 'contactId' }] });
});

t.test('PATCH merges, checks the task rule against the merged record, and honours If-Match', async (t) => {
  const task = await create({ type: 'task', subject: 'Follow up', dueAt: '2030-05-01T09:00:00.000Z' });
  const done = await patch(task.id, { completedAt: '2030-04-30T12:00:00.000Z' });
  t.equal(done.statusCode, 200);
  t.match(done.json(), { subject: 'Follow up', dueAt: '2030-05-01T09:00:00.000Z', completedAt: '2030-04-30T12:00:00.000Z', version: 2 });
  t.equal(done.headers.etag, '"2"');

  const retype = await patch(task.id, { type: 'call' });
  t.equal(retype.statusCode, 400, 'a task with due/completed times cannot become a call');
  t.same(retype.json().errors.map((e: { path: string }) => e.path), ['dueAt', 'completedAt']);
  const cleared = await patch(task.id, { type: 'call', dueAt: null, completedAt: null });
  t.equal(cleared.statusCode, 200, 'clearing them in the same patch is fine');
  t.match(cleared.json(), { type: 'call', dueAt: null, completedAt: null, version: 3 });

  t.equal((await patch(task.id, { occurredAt: null })).statusCode, 400, 'occurredAt may not be cleared');
  t.equal((await patch(task.id, { version: 9 })).statusCode, 400);

  const stale = await patch(task.id, { subject: 'Stale' }, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { id: task.id, version: 3, type: 'call' } });
  const fresh = await patch(task.id, { subject: 'Fresh' }, { 'if-match': '"3"' });
  t.match(fresh.json(), { subject: 'Fresh', version: 4 });
  const same = await patch(task.id, { subject: 'Fresh' });
  t.equal(same.json().version, 4, 'a patch that changes nothing keeps the version');
});

t.test('delete is soft and restore undoes it; unknown ids are 404', async (t) => {
  const a = await create({ type: 'note', body: 'Remember me' });
  t.equal((await h.request({ method: 'DELETE', url: `/v1/activities/${a.id}`, headers: admin.auth })).statusCode, 204);
  t.equal((await get(a.id)).statusCode, 404);
  t.equal((await patch(a.id, { body: 'x' })).statusCode, 404, 'a deleted activity cannot be patched');
  t.match((await get(a.id, { includeDeleted: 'true' })).json(), { id: a.id, deletedAt: /Z$/ });
  const restored = await post(`/v1/activities/${a.id}/restore`, undefined);
  t.equal(restored.statusCode, 200);
  t.match(restored.json(), { id: a.id, deletedAt: null, version: 3 });
  t.equal((await get(randomUUID())).statusCode, 404);
  t.equal((await get('not-a-uuid')).statusCode, 400);
});

t.test('each change writes one audit row and one activity.* event in its transaction', async (t) => {
  const a = await create({ type: 'meeting', subject: 'Kickoff' });
  await patch(a.id, { subject: 'Kickoff v2' });
  await h.request({ method: 'DELETE', url: `/v1/activities/${a.id}`, headers: admin.auth });
  await post(`/v1/activities/${a.id}/restore`, undefined);
  const audit = await db.select().from(auditLogs).where(eq(auditLogs.entityId, a.id)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
  const evs = await db.select().from(events).where(eq(events.entityId, a.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.same(audit.map((r) => r.action), ['create', 'update', 'delete', 'restore']);
  t.same(audit.map((r) => r.entityType), ['activity', 'activity', 'activity', 'activity']);
  t.same(evs.map((e) => e.type), ['activity.created', 'activity.updated', 'activity.deleted', 'activity.restored']);
  t.same(evs[0]!.data.after, a, 'the event carries the record as the API showed it');
  t.match(evs[1], { data: { before: { subject: 'Kickoff' }, after: { subject: 'Kickoff v2' } } });

  const refused = await post('/v1/activities', { type: 'call', dueAt: '2030-01-01T00:00:00Z', subject: 'Refused write' });
  t.equal(refused.statusCode, 400);
  const after = await db.select().from(auditLogs).where(eq(auditLogs.requestId, refused.headers['x-request-id'] as string));
  t.same(after, [], 'a refused write leaves no audit row');
});
