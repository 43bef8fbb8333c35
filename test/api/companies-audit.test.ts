import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';

// Every committed change of a company leaves exactly one audit row and one outbox event, written in
// its transaction; a refused write leaves neither. Read straight from this test's own database.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');

const auditOf = (entityId: string) =>
  db.select().from(auditLogs).where(eq(auditLogs.entityId, entityId)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
const eventsOf = (entityId: string) =>
  db.select().from(events).where(eq(events.entityId, entityId)).orderBy(asc(events.occurredAt), asc(events.id));
const auditOfRequest = (requestId: string) => db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId));
const eventsOfRequest = (requestId: string) => db.select().from(events).where(eq(events.requestId, requestId));

/** A request tagged with its own X-Request-Id, so its rows can be found even when it created nothing. */
async function send(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, extra: Record<string, string> = {}, who = admin) {
  const requestId = `audit-${randomUUID()}`;
  const res = await h.request({ method, url, headers: { ...who.auth, 'x-request-id': requestId, ...extra }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { res, requestId };
}

async function nothingWritten(t: Pick<typeof import('tap').t, 'same'>, requestId: string, what: string) {
  t.same(await auditOfRequest(requestId), [], `${what}: no audit row`);
  t.same(await eventsOfRequest(requestId), [], `${what}: no event`);
}

t.test('create, update, delete and restore each write one audit row and one event', async (t) => {
  const created = await send('POST', '/v1/companies', { name: 'Audited Co', employees: 5 });
  t.equal(created.res.statusCode, 201);
  const id = created.res.json().id as string;

  let audit = await auditOf(id);
  let evs = await eventsOf(id);
  t.equal(audit.length, 1);
  t.equal(evs.length, 1);
  t.match(audit[0], {
    action: 'create', entityType: 'company', actorType: 'user', actorId: admin.id, actorRole: 'admin',
    requestId: created.requestId, before: null, after: { id, name: 'Audited Co', employees: 5 },
  });
  t.match(evs[0], { type: 'company.created', entityType: 'company', actorId: admin.id, requestId: created.requestId });
  t.same(evs[0]!.data.after, created.res.json(), 'the event carries the record as the API showed it');
  t.equal(evs[0]!.data.before, null);

  const patched = await send('PATCH', `/v1/companies/${id}`, { employees: 6 });
  t.equal(patched.res.statusCode, 200);
  audit = await auditOf(id);
  evs = await eventsOf(id);
  t.equal(audit.length, 2);
  t.equal(evs.length, 2);
  t.match(audit[1], { action: 'update', requestId: patched.requestId });
  t.same([audit[1]!.before, audit[1]!.after], [{ employees: 5 }, { employees: 6 }], 'the audit row is a diff of what changed');
  t.match(evs[1], { type: 'company.updated', data: { before: { employees: 5, version: 1 }, after: { employees: 6, version: 2 } } });

  const deleted = await send('DELETE', `/v1/companies/${id}`);
  t.equal(deleted.res.statusCode, 204);
  const restored = await send('POST', `/v1/companies/${id}/restore`);
  t.equal(restored.res.statusCode, 200);

  audit = await auditOf(id);
  evs = await eventsOf(id);
  t.same(audit.map((a) => a.action), ['create', 'update', 'delete', 'restore']);
  t.same(evs.map((e) => e.type), ['company.created', 'company.updated', 'company.deleted', 'company.restored']);
  t.same(audit.map((a) => a.requestId), [created, patched, deleted, restored].map((x) => x.requestId));
  t.same(evs.map((e) => e.requestId), [created, patched, deleted, restored].map((x) => x.requestId));
});

t.test('refused and no-op writes leave no trace', async (t) => {
  const base = (await send('POST', '/v1/companies', { name: 'Quiet Co', domain: 'quiet.example' })).res.json();

  const invalid = await send('POST', '/v1/companies', { name: 'Loud Co', phone: 'xx' });
  t.equal(invalid.res.statusCode, 400);
  await nothingWritten(t, invalid.requestId, 'invalid create');

  const dup = await send('POST', '/v1/companies', { name: 'Quiet Twin', domain: 'quiet.example' });
  t.equal(dup.res.statusCode, 409);
  await nothingWritten(t, dup.requestId, 'conflicting create (rolled back in the database)');

  const badPatch = await send('PATCH', `/v1/companies/${base.id}`, { domain: 'not a domain' });
  t.equal(badPatch.res.statusCode, 400);
  await nothingWritten(t, badPatch.requestId, 'invalid patch');

  const stale = await send('PATCH', `/v1/companies/${base.id}`, { name: 'Stale' }, { 'if-match': '"7"' });
  t.equal(stale.res.statusCode, 412);
  await nothingWritten(t, stale.requestId, 'stale patch');

  const noop = await send('PATCH', `/v1/companies/${base.id}`, { name: 'Quiet Co' });
  t.equal(noop.res.statusCode, 200);
  await nothingWritten(t, noop.requestId, 'patch that changes nothing');

  const forbidden = await send('DELETE', `/v1/companies/${base.id}`, undefined, {}, h.user('viewer'));
  t.equal(forbidden.res.statusCode, 403);
  await nothingWritten(t, forbidden.requestId, 'forbidden delete');

  const missing = await send('DELETE', `/v1/companies/${randomUUID()}`);
  t.equal(missing.res.statusCode, 404);
  await nothingWritten(t, missing.requestId, 'delete of nothing');

  const liveRestore = await send('POST', `/v1/companies/${base.id}/restore`);
  t.equal(liveRestore.res.statusCode, 200);
  await nothingWritten(t, liveRestore.requestId, 'restore of a live record');

  t.equal((await auditOf(base.id)).length, 1, 'only its creation is on record');
  t.equal((await eventsOf(base.id)).length, 1);
});

t.test('a batch writes one row and one event per committed record, none for failed ones', async (t) => {
  const mixed = await send('POST', '/v1/companies/batch', {
    operation: 'create', records: [{ name: 'Batch Audit A' }, { name: 'Batch Audit B', currency: 'XXXX' }, { name: 'Batch Audit C' }],
  });
  t.equal(mixed.res.statusCode, 200);
  const ids = mixed.res.json().results.filter((r: { id: string | null }) => r.id).map((r: { id: string }) => r.id).sort();
  t.equal(ids.length, 2);
  const audit = await auditOfRequest(mixed.requestId);
  const evs = await eventsOfRequest(mixed.requestId);
  t.same(audit.map((a) => a.entityId).sort(), ids, 'one audit row per created record');
  t.same(evs.map((e) => e.entityId).sort(), ids, 'one event per created record');

  const atomic = await send('POST', '/v1/companies/batch', {
    operation: 'create', atomic: true, records: [{ name: 'Batch Audit D' }, { name: 'Batch Audit E', employees: -3 }],
  });
  t.equal(atomic.res.statusCode, 400);
  await nothingWritten(t, atomic.requestId, 'failed atomic batch');

  const upsert = await send('POST', '/v1/companies/batch', {
    operation: 'upsert', idProperty: 'domain', records: [{ domain: 'audit-up.example', name: 'Up' }, { domain: 'audit-up.example', name: 'Up' }],
  });
  t.same(upsert.res.json().results.map((r: { status: string }) => r.status), ['created', 'unchanged']);
  t.same((await auditOfRequest(upsert.requestId)).map((a) => a.action), ['create'], 'unchanged records are not audited');
});

t.test('GraphQL mutations are audited like REST', async (t) => {
  const res = await h.gql(admin, 'mutation($i: CompanyCreateInput!) { createCompany(input: $i) { id } }', { i: { name: 'Gql Audited' } });
  const id = res.body.data?.createCompany.id as string;
  t.ok(id);
  t.match(await auditOf(id), [{ action: 'create', actorId: admin.id }]);
  t.match(await eventsOf(id), [{ type: 'company.created' }]);
  t.equal((await auditOf(id)).length, 1);
});
