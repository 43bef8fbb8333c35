import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';

// Leads over REST (API.md §5): defaults, validation, versions, soft delete, lists, the duplicate
// check against contacts, batch upserts by email, and who may see and write what (sales own/team only).

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const teamA = randomUUID();
const teamB = randomUUID();
const salesA = h.user('sales', { teamIds: [teamA] });
const salesB = h.user('sales', { teamIds: [teamB] });

type Who = { auth: Record<string, string> };
const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who: Who = admin, payload?: unknown, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...who.auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
const list = (query: Record<string, string>, who: Who = admin) => h.request({ method: 'GET', url: '/v1/leads', headers: who.auth, query });
const count = async (query: Record<string, string>, who: Who = admin) =>
  (await h.request({ method: 'GET', url: '/v1/leads/count', headers: who.auth, query })).json().count as number;

async function create(body: Record<string, unknown>, who: Who = admin) {
  const res = await send('POST', '/v1/leads', who, body);
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}
const paths = (res: { json(): { errors?: { path: string }[] } }) => (res.json().errors ?? []).map((e) => e.path).sort();

t.test('create answers 201 with defaults, normalised values, Location and ETag; audited and emitted', async (t) => {
  const res = await send('POST', '/v1/leads', admin, {
    firstName: 'Lina', lastName: 'Haddad', email: ' Lina@Example.COM ', phone: '0501234567', companyName: 'Haddad Trading', companyDomain: 'Haddad.example', source: 'webinar',
  });
  t.equal(res.statusCode, 201);
  const lead = res.json();
  t.match(lead, {
    version: 1, status: 'new', score: 0, email: 'lina@example.com', phone: '+966501234567', companyDomain: 'haddad.example',
    ownerId: admin.id, teamId: null, custom: {}, convertedAt: null, convertedContactId: null, matchingContactId: null,
  });
  t.equal(res.headers.location, `/v1/leads/${lead.id}`);
  t.equal(res.headers.etag, '"1"');
  const audit = await db.select().from(auditLogs).where(eq(auditLogs.entityId, lead.id));
  t.match(audit, [{ action: 'create', entityType: 'lead', after: { email: 'lina@example.com' } }]);
  const evs = await db.select().from(events).where(eq(events.entityId, lead.id));
  t.match(evs, [{ type: 'lead.created', entityType: 'lead' }]);
  t.same(evs[0]!.data.after, lead, 'the event carries the record as the API showed it');
});

t.test('validation: unknown and read-only fields, converted status, bad email and phone, no identifying field', async (t) => {
  const unknown = await send('POST', '/v1/leads', admin, { firstName: 'X', nickname: 'x' });
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json(), { code: 'validation_failed', errors: [{ path: 'nickname', message: /not a known field/ }] });
  const readOnly = await send('POST', '/v1/leads', admin, { firstName: 'X', score: 50, convertedAt: '2026-01-01T00:00:00.000Z' });
  t.equal(readOnly.statusCode, 400);
  t.same(paths(readOnly), ['convertedAt', 'score']);
  t.match(readOnly.json().errors, [{ message: /read-only/ }, { message: /read-only/ }]);
  const converted = await send('POST', '/v1/leads', admin, { firstName: 'X', status: 'converted' });
  t.equal(converted.statusCode, 400);
  t.match(converted.json().errors, [{ path: 'status', message: /converting the lead/ }]);
  const bad = await send('POST', '/v1/leads', admin, { email: 'not-an-email', companyDomain: 'nope' });
  t.equal(bad.statusCode, 400);
  t.same(paths(bad), ['companyDomain', 'email']);
  const checks = await send('POST', '/v1/leads', admin, { phone: '12', custom: { tier: 'gold' } });
  t.equal(checks.statusCode, 400);
  t.same(paths(checks), ['custom.tier', 'phone']);
  const empty = await send('POST', '/v1/leads', admin, { companyName: 'Only A Company', source: 'web' });
  t.equal(empty.statusCode, 400);
  t.match(empty.json().errors, [{ path: '(root)', message: /firstName, lastName, email, phone/ }]);
  t.equal(await count({ 'filter[firstName][eq]': 'X' }), 0, 'nothing was written');

  const lead = await create({ firstName: 'Patchy' });
  const patchScore = await send('PATCH', `/v1/leads/${lead.id}`, admin, { score: 99 });
  t.equal(patchScore.statusCode, 400);
  t.match(patchScore.json().errors, [{ path: 'score', message: 'is read-only' }]);
  const patchStatus = await send('PATCH', `/v1/leads/${lead.id}`, admin, { status: 'converted' });
  t.equal(patchStatus.statusCode, 400);
  t.match(patchStatus.json().errors, [{ path: 'status' }]);
  const clearAll = await send('PATCH', `/v1/leads/${lead.id}`, admin, { firstName: null });
  t.equal(clearAll.statusCode, 400, 'a patch may not leave no identifying field');
});

t.test('read, merge patch with If-Match (412 when stale), delete, restore', async (t) => {
  const lead = await create({ firstName: 'Omar', source: 'fair', status: 'contacted' });
  const got = await send('GET', `/v1/leads/${lead.id}`);
  t.equal(got.statusCode, 200);
  t.same(got.json(), lead);
  t.equal(got.headers.etag, '"1"');

  const patched = await send('PATCH', `/v1/leads/${lead.id}`, admin, { source: null, status: 'qualified', lastName: 'Saleh' }, { 'if-match': '"1"' });
  t.equal(patched.statusCode, 200);
  t.match(patched.json(), { version: 2, source: null, status: 'qualified', lastName: 'Saleh', firstName: 'Omar' });
  t.equal(patched.headers.etag, '"2"');

  const stale = await send('PATCH', `/v1/leads/${lead.id}`, admin, { lastName: 'Late' }, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { version: 2, lastName: 'Saleh' } });

  const same = await send('PATCH', `/v1/leads/${lead.id}`, admin, { lastName: 'Saleh' });
  t.equal(same.json().version, 2, 'a patch changing nothing is no new version');

  t.equal((await send('DELETE', `/v1/leads/${lead.id}`)).statusCode, 204);
  t.equal((await send('GET', `/v1/leads/${lead.id}`)).statusCode, 404);
  t.equal((await send('GET', `/v1/leads/${lead.id}?includeDeleted=true`)).json().id, lead.id, 'admin sees it with includeDeleted');
  t.equal((await send('POST', `/v1/leads/${lead.id}/restore`, salesA)).statusCode, 403, 'only admin and manager restore');
  const restored = await send('POST', `/v1/leads/${lead.id}/restore`);
  t.equal(restored.statusCode, 200);
  t.match(restored.json(), { id: lead.id, deletedAt: null, version: 4 });
  const types = (await db.select().from(events).where(eq(events.entityId, lead.id)).orderBy(asc(events.occurredAt), asc(events.id))).map((e) => e.type);
  t.same(types, ['lead.created', 'lead.updated', 'lead.deleted', 'lead.restored']);
});

t.test('lists: filters, sorts, search over names, email and company name, count, fields', async (t) => {
  const tag = randomUUID().slice(0, 8);
  const a = await create({ firstName: 'Alia', lastName: tag, email: `alia.${tag}@example.com`, source: `src-${tag}`, status: 'qualified' });
  const b = await create({ firstName: 'Basim', lastName: tag, source: `src-${tag}`, companyName: `Qamar ${tag} Holdings` });
  await create({ firstName: 'Carim', lastName: tag, source: `other-${tag}` });

  const bySource = await list({ 'filter[source][eq]': `src-${tag}`, sort: 'firstName' });
  t.equal(bySource.statusCode, 200);
  t.same(bySource.json().data.map((l: { id: string }) => l.id), [a.id, b.id]);
  t.equal(await count({ 'filter[lastName][eq]': tag, 'filter[status][in]': 'new,qualified' }), 3);
  t.equal(await count({ 'filter[lastName][eq]': tag, 'filter[status][eq]': 'qualified' }), 1);
  t.same((await list({ q: `qamar ${tag}` })).json().data.map((l: { id: string }) => l.id), [b.id], 'q finds the company name');
  t.same((await list({ q: `alia.${tag}` })).json().data.map((l: { id: string }) => l.id), [a.id], 'q finds the email');
  t.same((await list({ 'filter[lastName][eq]': tag, sort: '-firstName', fields: 'firstName', limit: '2' })).json().data.map((l: object) => Object.keys(l).sort()),
    [['firstName', 'id'], ['firstName', 'id']]);
  const badFilter = await list({ 'filter[nickname][eq]': 'x' });
  t.equal(badFilter.statusCode, 400);
  t.match(badFilter.json().errors, [{ path: 'filter.nickname' }]);
  t.equal((await list({ sort: 'phone' })).statusCode, 400, 'phone is not sortable');
});

t.test('matchingContactId names the live contact with the same email, in reads and lists', async (t) => {
  const email = `dup.${randomUUID().slice(0, 8)}@example.com`;
  const contact = (await send('POST', '/v1/contacts', admin, { firstName: 'Dup', email })).json();
  const lead = await create({ firstName: 'Dup', email: email.toUpperCase() });
  t.equal(lead.matchingContactId, contact.id);
  t.equal((await send('GET', `/v1/leads/${lead.id}`)).json().matchingContactId, contact.id);
  t.equal((await list({ 'filter[email][eq]': email })).json().data[0].matchingContactId, contact.id);
  await send('DELETE', `/v1/contacts/${contact.id}`);
  t.equal((await send('GET', `/v1/leads/${lead.id}`)).json().matchingContactId, null, 'a deleted contact is no match');
});

t.test('batch: upsert by email updates the live lead or creates one; errors are per record', async (t) => {
  const email = `form.${randomUUID().slice(0, 8)}@example.com`;
  const existing = await create({ firstName: 'Form', email });
  const res = await send('POST', '/v1/leads/batch', admin, {
    operation: 'upsert', idProperty: 'email',
    records: [{ email: email.toUpperCase(), lastName: 'Filled' }, { email: `new.${email}`, firstName: 'New' }, { email: `bad.${email}`, score: 3 }],
  });
  t.equal(res.statusCode, 200);
  const results = res.json().results;
  t.match(results, [
    { index: 0, id: existing.id, status: 'updated' }, { index: 1, status: 'created' }, { index: 2, status: 'error', error: { code: 'validation_failed' } },
  ]);
  t.match((await send('GET', `/v1/leads/${existing.id}`)).json(), { lastName: 'Filled', version: 2 });
  t.equal(await count({ 'filter[email][eq]': `new.${email}` }), 1);
  const byId = await send('POST', '/v1/leads/batch', admin, { operation: 'update', records: [{ id: randomUUID(), firstName: 'Nobody' }] });
  t.match(byId.json().results, [{ status: 'error', error: { code: 'not_found' } }]);
});

t.test('sales see and write only their own and their teams\' leads (404 outside); support 403; viewer reads', async (t) => {
  const mine = await create({ firstName: 'Mine' }, salesA);
  t.match(mine, { ownerId: salesA.id, teamId: teamA });
  const theirs = await create({ firstName: 'Theirs', lastName: 'Scoped' }, salesB);
  const teammate = h.user('sales', { teamIds: [teamA] });
  t.equal((await send('GET', `/v1/leads/${mine.id}`, teammate)).statusCode, 200, 'a teammate sees the team\'s lead');
  for (const [method, url, body] of [
    ['GET', `/v1/leads/${theirs.id}`, undefined],
    ['PATCH', `/v1/leads/${theirs.id}`, { firstName: 'Taken' }],
    ['DELETE', `/v1/leads/${theirs.id}`, undefined],
  ] as const) {
    const res = await send(method, url, salesA, body);
    t.equal(res.statusCode, 404, `${method} another team's lead`);
  }
  t.equal(await count({ 'filter[lastName][eq]': 'Scoped' }, salesA), 0, 'absent from counts');
  t.same((await list({ 'filter[lastName][eq]': 'Scoped' }, salesA)).json().data, [], 'absent from lists');
  t.equal(await count({ 'filter[lastName][eq]': 'Scoped' }, salesB), 1);
  const away = await send('PATCH', `/v1/leads/${mine.id}`, salesA, { ownerId: null, teamId: null });
  t.equal(away.statusCode, 403, 'sales may not put a lead out of their reach');
  const other = await send('POST', '/v1/leads', salesA, { firstName: 'Gift', ownerId: salesB.id });
  t.equal(other.statusCode, 403);
  t.match(other.json().errors, [{ path: 'ownerId' }]);

  const support = h.user('support');
  for (const [method, url] of [['GET', '/v1/leads'], ['GET', `/v1/leads/${mine.id}`], ['GET', '/v1/leads/count'], ['POST', '/v1/leads']] as const) {
    const res = await send(method, url, support, method === 'POST' ? { firstName: 'Support' } : undefined);
    t.equal(res.statusCode, 403, `support ${method} ${url}`);
  }
  const viewer = h.user('viewer');
  t.equal((await send('GET', `/v1/leads/${theirs.id}`, viewer)).statusCode, 200);
  t.equal((await send('POST', '/v1/leads', viewer, { firstName: 'Viewer' })).statusCode, 403);
});

t.test('a marketing API key (a web form) creates and reads leads', async (t) => {
  const key = await send('POST', '/v1/api-keys', admin, { name: 'web form', role: 'marketing' });
  t.equal(key.statusCode, 201);
  const auth = { authorization: `Bearer ${key.json().key}` };
  const res = await h.request({ method: 'POST', url: '/v1/leads', headers: auth, payload: { email: `form.${randomUUID().slice(0, 6)}@example.com`, source: 'web form' } });
  t.equal(res.statusCode, 201);
  t.match(res.json(), { status: 'new', source: 'web form', ownerId: null });
  t.equal((await h.request({ method: 'GET', url: `/v1/leads/${res.json().id}`, headers: auth })).statusCode, 200);
});
