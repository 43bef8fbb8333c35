import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';
import { createSlaPolicyService } from '../../src/modules/service/sla-policy.service.js';

// SLA policies (API.md §5 Service) over REST and GraphQL: validation of zones, opening hours, holidays
// and targets; one default at a time; configuration roles (admin and manager write, everyone reads);
// and resolveIn, the lookup the tickets use.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const manager = h.user('manager');
const readers = [h.user('support'), h.user('sales'), h.user('marketing'), h.user('viewer')];

type Who = ReturnType<typeof h.user>;
const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, who: Who | null = admin, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...(who?.auth ?? {}), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

async function created(body: Record<string, unknown>, who: Who = admin) {
  const res = await req('POST', '/v1/sla-policies', body, who);
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

async function gql(query: string, variables?: Record<string, unknown>, who: Who | null = admin) {
  const res = await h.gql(who ?? undefined, query, variables);
  const errors = res.body.errors ?? [];
  return { data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}

const weekdays = [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' }));
const targets = [
  { priority: 'urgent', firstResponseMinutes: 30, resolutionMinutes: 240 },
  { priority: 'normal', firstResponseMinutes: 240, resolutionMinutes: 2400 },
];

t.test('create with every field, defaults when absent, read back with ETag and Location', async (t) => {
  const full = await req('POST', '/v1/sla-policies', {
    name: 'Riyadh office', timeZone: 'Asia/Riyadh', holidays: ['2026-12-02', '2026-09-23'],
    businessHours: [{ day: 0, start: '09:00', end: '12:00' }, { day: 0, start: '13:00', end: '17:00' }, { day: 4, start: '18:00', end: '24:00' }],
    targets,
  });
  t.equal(full.statusCode, 201);
  t.equal(full.headers.etag, '"1"');
  t.equal(full.headers.location, `/v1/sla-policies/${full.json().id}`);
  t.match(full.json(), { name: 'Riyadh office', isDefault: false, timeZone: 'Asia/Riyadh', version: 1, deletedAt: null, holidays: ['2026-12-02', '2026-09-23'], targets });
  t.equal(full.json().businessHours.length, 3);

  const bare = await created({ name: 'Bare' });
  t.match(bare, { isDefault: false, timeZone: 'UTC', businessHours: null, holidays: [], targets: [] }, 'around the clock in UTC by default');
  const got = await req('GET', `/v1/sla-policies/${full.json().id}`);
  t.same(got.json(), full.json());
  t.equal(got.headers.etag, '"1"');
  t.same(Object.keys((await req('GET', `/v1/sla-policies/${bare.id}?fields=name,timeZone`)).json()).sort(), ['id', 'name', 'timeZone']);
  t.equal((await req('GET', `/v1/sla-policies/${randomUUID()}`)).statusCode, 404);
  t.match((await req('GET', '/v1/sla-policies/nope')).json(), { code: 'validation_failed' });
});

t.test('validation names the bad field: zone, spans, holidays, targets, unknown fields', async (t) => {
  const cases: [Record<string, unknown>, string, RegExp?][] = [
    [{ timeZone: 'Mars/Olympus' }, 'timeZone', /IANA/],
    [{ businessHours: [] }, 'businessHours', /at least one span/],
    [{ businessHours: [{ day: 7, start: '09:00', end: '17:00' }] }, 'businessHours.0.day'],
    [{ businessHours: [{ day: 1, start: '9:00', end: '17:00' }] }, 'businessHours.0.start', /HH:MM/],
    [{ businessHours: [{ day: 1, start: '09:00', end: '24:30' }] }, 'businessHours.0.end'],
    [{ businessHours: [{ day: 1, start: '17:00', end: '09:00' }] }, 'businessHours.0.end', /after start/],
    [{ businessHours: [{ day: 1, start: '09:00', end: '13:00' }, { day: 1, start: '12:00', end: '17:00' }] }, 'businessHours.1', /overlaps businessHours.0/],
    [{ holidays: ['2026-02-30'] }, 'holidays.0', /calendar date/],
    [{ holidays: ['25/12/2026'] }, 'holidays.0', /YYYY-MM-DD/],
    [{ holidays: ['2026-12-25', '2026-12-25'] }, 'holidays.1', /repeats/],
    [{ targets: [{ priority: 'high', firstResponseMinutes: 0, resolutionMinutes: 60 }] }, 'targets.0.firstResponseMinutes'],
    [{ targets: [{ priority: 'high', firstResponseMinutes: 30, resolutionMinutes: 1.5 }] }, 'targets.0.resolutionMinutes'],
    [{ targets: [{ priority: 'asap', firstResponseMinutes: 30, resolutionMinutes: 60 }] }, 'targets.0.priority'],
    [{ targets: [targets[0], targets[0]] }, 'targets.1.priority', /already has a target/],
    [{ colour: 'red' }, 'colour', /not a known field/],
    [{ version: 2 }, 'version', /read-only/],
  ];
  for (const [extra, path, message] of cases) {
    const res = await req('POST', '/v1/sla-policies', { name: 'Bad', ...extra });
    t.equal(res.statusCode, 400, `${path} refused`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path, ...(message ? { message } : {}) }] }, path);
  }
  t.match((await req('POST', '/v1/sla-policies', {})).json(), { errors: [{ path: 'name' }] });
  const touching = await req('POST', '/v1/sla-policies', { name: 'Split', businessHours: [{ day: 1, start: '09:00', end: '12:00' }, { day: 1, start: '12:00', end: '17:00' }, { day: 2, start: '10:00', end: '12:00' }] });
  t.equal(touching.statusCode, 201, 'spans that touch, or lie on other days, do not overlap');
});

t.test('merge patch, If-Match, delete, restore; audit rows and sla_policy.* events', async (t) => {
  const p = await created({ name: 'Patchable', businessHours: weekdays, targets });
  const patched = await req('PATCH', `/v1/sla-policies/${p.id}`, { businessHours: null, holidays: ['2026-12-25'], timeZone: 'Europe/London' }, admin, { 'if-match': '"1"' });
  t.equal(patched.statusCode, 200);
  t.match(patched.json(), { businessHours: null, holidays: ['2026-12-25'], timeZone: 'Europe/London', targets, version: 2 });
  t.equal(patched.headers.etag, '"2"');
  const stale = await req('PATCH', `/v1/sla-policies/${p.id}`, { name: 'Late' }, admin, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { version: 2 } });
  t.equal((await req('PATCH', `/v1/sla-policies/${p.id}`, { name: 'Patchable' })).json().version, 2, 'no change, no new version');
  t.match((await req('PATCH', `/v1/sla-policies/${p.id}`, { targets: [targets[0], targets[0]] })).json(), { errors: [{ path: 'targets.1.priority' }] });
  t.equal((await req('PATCH', `/v1/sla-policies/${randomUUID()}`, { name: 'x' })).statusCode, 404);

  t.equal((await req('DELETE', `/v1/sla-policies/${p.id}`, undefined, manager)).statusCode, 204, 'managers write configuration');
  t.equal((await req('GET', `/v1/sla-policies/${p.id}`)).statusCode, 404);
  t.match((await req('GET', `/v1/sla-policies/${p.id}?includeDeleted=true`)).json(), { id: p.id, deletedAt: String });
  const restored = await req('POST', `/v1/sla-policies/${p.id}/restore`);
  t.match(restored.json(), { id: p.id, deletedAt: null, version: 4 });

  const audit = await db.select().from(auditLogs).where(eq(auditLogs.entityId, p.id)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
  t.same(audit.map((a) => a.action), ['create', 'update', 'delete', 'restore']);
  const evs = await db.select().from(events).where(eq(events.entityId, p.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.same(evs.map((e) => e.type), ['sla_policy.created', 'sla_policy.updated', 'sla_policy.deleted', 'sla_policy.restored']);
});

t.test('idempotent create through the platform', async (t) => {
  const key = randomUUID();
  const a = await req('POST', '/v1/sla-policies', { name: 'Once' }, admin, { 'idempotency-key': key });
  const b = await req('POST', '/v1/sla-policies', { name: 'Once' }, admin, { 'idempotency-key': key });
  t.equal(a.statusCode, 201);
  t.equal(b.json().id, a.json().id, 'the replay answers the same policy');
});

t.test('one default at a time: a new default unsets the old one in the same transaction', async (t) => {
  const first = await created({ name: 'Default A', isDefault: true, targets });
  const second = await created({ name: 'Default B', isDefault: true });
  const a = (await req('GET', `/v1/sla-policies/${first.id}`)).json();
  t.match(a, { isDefault: false, version: 2 }, 'the old default was unset (and versioned)');
  const defaults = await req('GET', '/v1/sla-policies?filter[isDefault][eq]=true');
  t.same(defaults.json().data.map((x: { id: string }) => x.id), [second.id]);
  const evs = await db.select().from(events).where(eq(events.entityId, first.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.same(evs.map((e) => e.type), ['sla_policy.created', 'sla_policy.updated']);
  t.match(evs[1]!.data, { before: { isDefault: true }, after: { isDefault: false } });

  const back = await req('PATCH', `/v1/sla-policies/${first.id}`, { isDefault: true });
  t.equal(back.json().isDefault, true, 'patching isDefault switches back');
  t.equal((await req('GET', `/v1/sla-policies/${second.id}`)).json().isDefault, false);
  t.equal((await req('GET', '/v1/sla-policies/count?filter[isDefault][eq]=true')).json().count, 1);

  // a deleted default that was replaced meanwhile comes back as an ordinary policy
  await req('DELETE', `/v1/sla-policies/${first.id}`);
  await req('PATCH', `/v1/sla-policies/${second.id}`, { isDefault: true });
  t.match((await req('POST', `/v1/sla-policies/${first.id}/restore`)).json(), { isDefault: false, deletedAt: null });
  await req('PATCH', `/v1/sla-policies/${first.id}`, { isDefault: true }); // leave A the default for resolveIn below
});

if (h.db.url) t.test('concurrent default switches serialise: all succeed, one default remains (PostgreSQL)', async (t) => {
  const before = (await req('GET', '/v1/sla-policies?filter[isDefault][eq]=true')).json().data[0];
  const made = await Promise.all([1, 2, 3, 4, 5].map((i) => req('POST', '/v1/sla-policies', { name: `Racing default ${i}`, isDefault: true })));
  t.same(made.map((r) => r.statusCode), [201, 201, 201, 201, 201]);
  const defaults = (await req('GET', '/v1/sla-policies?filter[isDefault][eq]=true')).json().data;
  t.equal(defaults.length, 1, 'exactly one default');
  for (const r of made) if (r.json().id !== defaults[0].id) await req('DELETE', `/v1/sla-policies/${r.json().id}`);
  await req('DELETE', `/v1/sla-policies/${defaults[0].id}`);
  await req('PATCH', `/v1/sla-policies/${before.id}`, { isDefault: true }); // as it was, for the tests below
});

t.test('resolveIn: the named live policy, else the default, else null; unknown or deleted ids are 422', async (t) => {
  const service = createSlaPolicyService({ db });
  const def = (await req('GET', '/v1/sla-policies?filter[isDefault][eq]=true')).json().data[0];
  const other = await created({ name: 'Named' });
  t.equal((await service.resolveIn(db, null))?.id, def.id, 'no policy named: the default');
  t.equal((await service.resolveIn(db, other.id))?.id, other.id);
  await t.rejects(service.resolveIn(db, randomUUID()), { code: 'invalid_reference', errors: [{ path: 'slaPolicyId' }] });
  await t.rejects(service.resolveIn(db, 'not-a-uuid'), { code: 'invalid_reference' });
  await req('DELETE', `/v1/sla-policies/${other.id}`);
  await t.rejects(service.resolveIn(db, other.id), { code: 'invalid_reference' }, 'a deleted policy is no reference');
  await req('PATCH', `/v1/sla-policies/${def.id}`, { isDefault: false });
  t.equal(await service.resolveIn(db, null), null, 'no default: no policy');
});

t.test('list and count: filters, sorts, cursors', async (t) => {
  const page1 = await req('GET', '/v1/sla-policies?sort=name&limit=2');
  t.equal(page1.statusCode, 200);
  t.equal(page1.json().data.length, 2);
  const names = page1.json().data.map((x: { name: string }) => x.name);
  t.same(names, [...names].sort());
  const page2 = await req('GET', `/v1/sla-policies?sort=name&limit=2&cursor=${page1.json().nextCursor}`);
  t.ok(page2.json().data.every((x: { name: string }) => x.name >= names[1]), 'the next page continues');
  const london = await req('GET', '/v1/sla-policies?filter[timeZone][eq]=Asia/Riyadh');
  t.same(london.json().data.map((x: { name: string }) => x.name), ['Riyadh office']);
  t.equal((await req('GET', '/v1/sla-policies/count?filter[timeZone][eq]=Asia/Riyadh')).json().count, 1);
  t.equal((await req('GET', '/v1/sla-policies?filter[bogus][eq]=1')).statusCode, 400);
});

t.test('roles: admin and manager write; support, sales, marketing and viewer read and get 403 on writes; 401 without token', async (t) => {
  const p = await created({ name: 'Roles' }, manager);
  for (const who of readers) {
    t.equal((await req('GET', `/v1/sla-policies/${p.id}`, undefined, who)).statusCode, 200, `${who.role} reads one`);
    t.equal((await req('GET', '/v1/sla-policies', undefined, who)).statusCode, 200, `${who.role} lists`);
    t.equal((await req('POST', '/v1/sla-policies', { name: 'No' }, who)).statusCode, 403, `${who.role} may not create`);
    t.equal((await req('PATCH', `/v1/sla-policies/${p.id}`, { name: 'No' }, who)).statusCode, 403, `${who.role} may not change`);
    t.equal((await req('DELETE', `/v1/sla-policies/${p.id}`, undefined, who)).statusCode, 403, `${who.role} may not delete`);
    t.equal((await req('POST', `/v1/sla-policies/${p.id}/restore`, undefined, who)).statusCode, 403, `${who.role} may not restore`);
    t.same((await gql('mutation { createSlaPolicy(input: { name: "No" }) { id } }', undefined, who)).codes, ['forbidden'], `${who.role} GraphQL write refused`);
    t.equal((await gql('query($id: ID!) { slaPolicy(id: $id) { name } }', { id: p.id }, who)).data?.slaPolicy?.name, 'Roles');
  }
  t.equal((await req('GET', '/v1/sla-policies', undefined, null)).statusCode, 401);
  t.equal((await req('POST', '/v1/sla-policies', { name: 'No' }, null)).statusCode, 401);
  t.same((await gql('{ slaPolicies { edges { node { id } } } }', undefined, null)).codes, ['unauthenticated']);
});

const FIELDS = 'id name isDefault timeZone version holidays businessHours { day start end } targets { priority firstResponseMinutes resolutionMinutes }';

t.test('GraphQL: the same service, validation and errors', async (t) => {
  const made = await gql(`mutation($input: SlaPolicyCreateInput!) { createSlaPolicy(input: $input) { ${FIELDS} } }`, {
    input: { name: 'GQL', timeZone: 'Europe/London', businessHours: weekdays, holidays: ['2026-12-25'], targets: [{ priority: 'high', firstResponseMinutes: 60, resolutionMinutes: 480 }] },
  });
  t.same(made.errors, []);
  const p = made.data?.createSlaPolicy;
  t.match(p, { name: 'GQL', isDefault: false, timeZone: 'Europe/London', version: 1, holidays: ['2026-12-25'], targets: [{ priority: 'high', firstResponseMinutes: 60 }] });
  t.equal(p.businessHours.length, 5);

  const bad = await gql('mutation { createSlaPolicy(input: { name: "x", timeZone: "Nowhere/Land" }) { id } }');
  t.same(bad.codes, ['validation_failed']);
  const upd = `mutation($id: ID!, $input: SlaPolicyPatchInput!, $v: Int) { updateSlaPolicy(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
  const ok = await gql(upd, { id: p.id, input: { businessHours: null, isDefault: true }, v: 1 });
  t.match(ok.data?.updateSlaPolicy, { businessHours: null, isDefault: true, version: 2 });
  t.same((await gql(upd, { id: p.id, input: { name: 'Late' }, v: 1 })).codes, ['version_conflict']);
  t.same((await gql(upd, { id: randomUUID(), input: { name: 'x' } })).codes, ['not_found']);

  const list = await gql('{ slaPolicies(filter: { isDefault: { eq: true } }, sort: [{ field: name, direction: DESC }], first: 5) { edges { node { id name } } pageInfo { hasNextPage } } }');
  t.same(list.data?.slaPolicies.edges.map((e: { node: { id: string } }) => e.node.id), [p.id]);
  t.equal((await gql('{ slaPoliciesCount(filter: { timeZone: { eq: "Europe/London" }, name: { eq: "GQL" } }) }')).data?.slaPoliciesCount, 1);

  t.equal((await gql('mutation($id: ID!) { deleteSlaPolicy(id: $id) }', { id: p.id })).data?.deleteSlaPolicy, true);
  t.same((await gql('query($id: ID!) { slaPolicy(id: $id) { id } }', { id: p.id })).codes, ['not_found']);
  t.match((await gql('mutation($id: ID!) { restoreSlaPolicy(id: $id) { id isDefault } }', { id: p.id })).data?.restoreSlaPolicy, { id: p.id, isDefault: true });
});
