import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';

// Tickets (API.md §5 Service) over REST: required fields and references, requesterEmail creating the
// contact, SLA due times at create (named and default policy), the status table (closed final, solved
// reopens), pause and resume pushing due times, priority and policy changes recomputing them, lists,
// batch, custom fields, round-robin assignment and the roles of §4.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const support = h.user('support');
const sales = h.user('sales');
const marketing = h.user('marketing');
const viewer = h.user('viewer');

type Who = ReturnType<typeof h.user>;
const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, who: Who | null = admin, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...(who?.auth ?? {}), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

async function created(url: string, body: Record<string, unknown>, who: Who = admin) {
  const res = await req('POST', url, body, who);
  if (res.statusCode !== 201) throw new Error(`create ${url} failed: ${res.body}`);
  return res.json();
}

const MIN = 60_000;
const plus = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * MIN).toISOString();

// around the clock, so due times are creation + target exactly
const fast = await created('/v1/sla-policies', {
  name: 'Fast lane', targets: [
    { priority: 'normal', firstResponseMinutes: 60, resolutionMinutes: 480 },
    { priority: 'urgent', firstResponseMinutes: 15, resolutionMinutes: 120 },
  ],
});
const standard = await created('/v1/sla-policies', {
  name: 'Standard', isDefault: true, targets: [
    { priority: 'low', firstResponseMinutes: 1440, resolutionMinutes: 10_080 },
    { priority: 'normal', firstResponseMinutes: 240, resolutionMinutes: 2880 },
    { priority: 'high', firstResponseMinutes: 120, resolutionMinutes: 1440 },
  ],
});
const requester = await created('/v1/contacts', { firstName: 'Rana', lastName: 'Requester', email: 'rana@example.com' });

t.test('create: defaults, due times from the default policy, ETag and Location; audit and event', async (t) => {
  const res = await req('POST', '/v1/tickets', { subject: 'Router blinks red', description: 'Since Monday', requesterId: requester.id }, support);
  t.equal(res.statusCode, 201);
  const tk = res.json();
  t.match(tk, {
    subject: 'Router blinks red', status: 'new', priority: 'normal', channel: 'api', requesterId: requester.id, version: 1,
    assigneeId: null, teamId: null, slaPolicyId: standard.id, firstRespondedAt: null, solvedAt: null, closedAt: null,
    slaBreached: false, slaPausedMinutes: 0, satisfactionScore: null, tags: [], custom: {},
  });
  t.equal(tk.firstResponseDueAt, plus(tk.createdAt, 240), 'the default policy\'s normal first-response target');
  t.equal(tk.resolutionDueAt, plus(tk.createdAt, 2880));
  t.equal(res.headers.etag, '"1"');
  t.equal(res.headers.location, `/v1/tickets/${tk.id}`);
  t.same((await req('GET', `/v1/tickets/${tk.id}`, undefined, viewer)).json(), tk);

  const named = await created('/v1/tickets', { subject: 'Urgent outage', priority: 'urgent', slaPolicyId: fast.id, requesterId: requester.id });
  t.equal(named.slaPolicyId, fast.id);
  t.equal(named.firstResponseDueAt, plus(named.createdAt, 15));
  t.equal(named.resolutionDueAt, plus(named.createdAt, 120));
  const untargeted = await created('/v1/tickets', { subject: 'No target', priority: 'urgent', requesterId: requester.id });
  t.match(untargeted, { slaPolicyId: standard.id, firstResponseDueAt: null, resolutionDueAt: null }, 'no target for the priority: no due times');

  const audit = await db.select().from(auditLogs).where(eq(auditLogs.entityId, tk.id));
  t.same(audit.map((a) => a.action), ['create']);
  const evs = await db.select().from(events).where(eq(events.entityId, tk.id));
  t.same(evs.map((e) => e.type), ['ticket.created']);
});

t.test('create: required, unknown, read-only fields; references; requesterEmail makes or reuses the contact', async (t) => {
  const missing = await req('POST', '/v1/tickets', { description: 'x' });
  t.equal(missing.statusCode, 400);
  t.same(missing.json().errors.map((e: { path: string }) => e.path).sort(), ['subject']);
  const noRequester = await req('POST', '/v1/tickets', { subject: 'Who?' });
  t.match(noRequester.json(), { code: 'validation_failed', errors: [{ path: 'requesterId', message: /requesterEmail/ }] });
  const both = await req('POST', '/v1/tickets', { subject: 'Both', requesterId: requester.id, requesterEmail: 'x@example.com' });
  t.match(both.json(), { code: 'validation_failed', errors: [{ path: 'requesterEmail' }] });
  for (const field of ['firstRespondedAt', 'slaBreached', 'solvedAt', 'resolutionDueAt', 'satisfactionScore', 'version']) {
    const res = await req('POST', '/v1/tickets', { subject: 'RO', requesterId: requester.id, [field]: null });
    t.match(res.json(), { code: 'validation_failed', errors: [{ path: field, message: 'is read-only' }] }, `${field} is read-only`);
  }
  t.match((await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, mood: 1 })).json(), { errors: [{ path: 'mood', message: 'is not a known field' }] });
  t.match((await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, status: 'done' })).json(), { errors: [{ path: 'status' }] });

  const ghosts = await req('POST', '/v1/tickets', { subject: 'x', requesterId: randomUUID(), assigneeId: randomUUID(), teamId: randomUUID() });
  t.equal(ghosts.statusCode, 422);
  t.same(ghosts.json().errors.map((e: { path: string }) => e.path), ['requesterId', 'assigneeId', 'teamId']);
  const policy = await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, slaPolicyId: randomUUID() });
  t.match(policy.json(), { code: 'invalid_reference', errors: [{ path: 'slaPolicyId' }] });
  const salesUser = await created('/v1/users', { email: `s-${randomUUID()}@example.com`, password: `pw-${randomUUID()}`, name: 'Sam Sales', role: 'sales' });
  const toSales = await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, assigneeId: salesUser.id });
  t.match(toSales.json(), { code: 'invalid_reference', errors: [{ path: 'assigneeId', message: /sales/ }] }, 'only ticket workers are assignees');

  const fresh = await created('/v1/tickets', { subject: 'Via email', channel: 'email', requesterEmail: 'New.Person@Example.com' }, support);
  const contact = (await req('GET', `/v1/contacts/${fresh.requesterId}`)).json();
  t.equal(contact.email, 'new.person@example.com', 'the contact was created in the same transaction');
  const again = await created('/v1/tickets', { subject: 'Again', requesterEmail: 'new.person@example.com' });
  t.equal(again.requesterId, fresh.requesterId, 'an existing contact is reused');
  const rana = await created('/v1/tickets', { subject: 'Known', requesterEmail: 'RANA@example.com' });
  t.equal(rana.requesterId, requester.id);
});

t.test('status table: closed is final, solved reopens and clears solvedAt, nothing returns to new', async (t) => {
  const tk = await created('/v1/tickets', { subject: 'Lifecycle', requesterId: requester.id });
  const patch = (body: unknown, who: Who = support) => req('PATCH', `/v1/tickets/${tk.id}`, body, who);
  t.equal((await patch({ status: 'open' })).json().status, 'open');
  const back = await patch({ status: 'new' });
  t.equal(back.statusCode, 409);
  t.match(back.json(), { code: 'conflict', errors: [{ path: 'status', message: /from open to new/ }] });
  const solved = (await patch({ status: 'solved' })).json();
  t.match(solved, { status: 'solved', solvedAt: String });
  t.equal((await patch({ status: 'pending' })).statusCode, 409, 'solved only reopens to open (or closes)');
  const reopened = (await patch({ status: 'open' })).json();
  t.match(reopened, { status: 'open', solvedAt: null });
  const closed = (await patch({ status: 'closed' })).json();
  t.match(closed, { status: 'closed', closedAt: String, solvedAt: String }, 'closing an unsolved ticket also ends its resolution clock');
  for (const body of [{ status: 'open' }, { status: 'solved' }, { priority: 'high' }, { subject: 'Renamed' }]) {
    const res = await patch(body);
    t.equal(res.statusCode, 409, `closed refuses ${JSON.stringify(body)}`);
  }
  t.match((await patch({ tags: ['billing'] })).json(), { status: 'closed', tags: ['billing'] }, 'a closed ticket still takes tags');
  const evs = await db.select().from(events).where(eq(events.entityId, tk.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.equal(evs.filter((e) => e.type === 'ticket.status_changed').length, 4);

  const direct = await created('/v1/tickets', { subject: 'Born solved', status: 'solved', requesterId: requester.id });
  t.match(direct, { status: 'solved', solvedAt: direct.createdAt });
});

t.test('pending pauses the SLA clock; leaving pending pushes the due times by the business minutes paused', async (t) => {
  const tk = await created('/v1/tickets', { subject: 'Waiting on customer', slaPolicyId: fast.id, requesterId: requester.id });
  const paused = (await req('PATCH', `/v1/tickets/${tk.id}`, { status: 'pending' }, support)).json();
  t.match(paused, { status: 'pending', slaPausedAt: String, slaPausedMinutes: 0, firstResponseDueAt: tk.firstResponseDueAt });
  // the pause began 90 minutes ago (around-the-clock policy: 90 business minutes)
  await db.execute(sql`UPDATE tickets SET sla_paused_at = now() - interval '90 minutes' WHERE id = ${tk.id}::uuid`);
  const resumed = (await req('PATCH', `/v1/tickets/${tk.id}`, { status: 'open' }, support)).json();
  t.match(resumed, { status: 'open', slaPausedAt: null });
  t.ok(resumed.slaPausedMinutes >= 90 && resumed.slaPausedMinutes <= 91, `paused ${resumed.slaPausedMinutes} minutes`);
  t.equal(resumed.firstResponseDueAt, plus(tk.createdAt, 60 + resumed.slaPausedMinutes));
  t.equal(resumed.resolutionDueAt, plus(tk.createdAt, 480 + resumed.slaPausedMinutes));
  const solvedFromPending = await created('/v1/tickets', { subject: 'Pending then solved', status: 'pending', requesterId: requester.id });
  t.match(solvedFromPending, { status: 'pending', slaPausedAt: solvedFromPending.createdAt });
  t.match((await req('PATCH', `/v1/tickets/${solvedFromPending.id}`, { status: 'solved' })).json(), { status: 'solved', slaPausedAt: null });
});

t.test('a change of priority or of slaPolicyId recomputes the due times', async (t) => {
  const tk = await created('/v1/tickets', { subject: 'Escalate me', requesterId: requester.id });
  t.equal(tk.firstResponseDueAt, plus(tk.createdAt, 240));
  const high = (await req('PATCH', `/v1/tickets/${tk.id}`, { priority: 'high' }, support)).json();
  t.equal(high.firstResponseDueAt, plus(tk.createdAt, 120));
  t.equal(high.resolutionDueAt, plus(tk.createdAt, 1440));
  const moved = (await req('PATCH', `/v1/tickets/${tk.id}`, { slaPolicyId: fast.id, priority: 'urgent' }, support)).json();
  t.match(moved, { slaPolicyId: fast.id, firstResponseDueAt: plus(tk.createdAt, 15), resolutionDueAt: plus(tk.createdAt, 120) });
  const dflt = (await req('PATCH', `/v1/tickets/${tk.id}`, { slaPolicyId: null, priority: 'low' }, support)).json();
  t.match(dflt, { slaPolicyId: standard.id, firstResponseDueAt: plus(tk.createdAt, 1440) }, 'null goes back to the default policy');
  t.match((await req('PATCH', `/v1/tickets/${tk.id}`, { slaPolicyId: randomUUID() })).json(), { code: 'invalid_reference', errors: [{ path: 'slaPolicyId' }] });
  const stale = await req('PATCH', `/v1/tickets/${tk.id}`, { priority: 'normal' }, admin, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { id: tk.id, priority: 'low' } });
  const same = await req('PATCH', `/v1/tickets/${tk.id}`, { priority: 'low' });
  t.equal(same.json().version, dflt.version, 'a patch that changes nothing leaves the version');
});

t.test('list: filters, sorts, search with Arabic folding, paging, count, include; delete and restore', async (t) => {
  const who = await created('/v1/contacts', { firstName: 'Lina' });
  const mk = (subject: string, extra: Record<string, unknown> = {}) => created('/v1/tickets', { subject, requesterId: who.id, ...extra });
  const a = await mk('طلب إرجاع المنتج', { priority: 'high', channel: 'chat', tags: ['returns'] });
  const b = await mk('Invoice question', { priority: 'low', description: 'The café charged twice' });
  const c = await mk('Password reset', { status: 'pending' });
  const list = (q: Record<string, string>) => req('GET', `/v1/tickets?${new URLSearchParams({ 'filter[requesterId][eq]': who.id, ...q })}`, undefined, sales);
  t.same((await list({})).json().data.map((x: { id: string }) => x.id), [c.id, b.id, a.id], 'newest first');
  t.same((await list({ q: 'ارجاع' })).json().data.map((x: { id: string }) => x.id), [a.id], 'hamza folded');
  t.same((await list({ q: 'CAFE' })).json().data.map((x: { id: string }) => x.id), [b.id], 'the description is searched, accents folded');
  t.same((await list({ 'filter[status][eq]': 'pending' })).json().data.map((x: { id: string }) => x.id), [c.id]);
  t.same((await list({ 'filter[priority][in]': 'high,low', sort: 'priority' })).json().data.map((x: { id: string }) => x.id), [a.id, b.id]);
  t.same((await list({ 'filter[tags][contains]': 'returns' })).json().data.map((x: { id: string }) => x.id), [a.id]);
  t.same((await list({ 'filter[channel][eq]': 'chat', 'filter[slaBreached][eq]': 'false' })).json().data.length, 1);
  t.same((await list({ 'filter[resolutionDueAt][lt]': plus(b.createdAt, 2000), sort: 'resolutionDueAt' })).json().data.map((x: { id: string }) => x.id), [a.id]);
  const p1 = (await list({ limit: '2', sort: 'subject' })).json();
  const p2 = (await list({ limit: '2', sort: 'subject', cursor: p1.nextCursor })).json();
  t.same([...p1.data, ...p2.data].map((x: { subject: string }) => x.subject), ['Invoice question', 'Password reset', 'طلب إرجاع المنتج']);
  t.equal(p2.nextCursor, null);
  t.same((await req('GET', `/v1/tickets/count?filter[requesterId][eq]=${who.id}&filter[status][ne]=pending`, undefined, viewer)).json(), { count: 2 });
  const inc = (await list({ include: 'requester', fields: 'subject', 'filter[id][eq]': a.id })).json();
  t.same(inc.data, [{ id: a.id, subject: a.subject, requester: who }]);
  t.match((await list({ sort: 'description' })).json(), { code: 'validation_failed' });

  t.equal((await req('DELETE', `/v1/tickets/${b.id}`, undefined, support)).statusCode, 204);
  t.equal((await req('GET', `/v1/tickets/${b.id}`)).statusCode, 404);
  t.equal((await list({})).json().data.length, 2);
  t.equal((await req('POST', `/v1/tickets/${b.id}/restore`, undefined, support)).statusCode, 403, 'restore is for admin and manager');
  t.match((await req('POST', `/v1/tickets/${b.id}/restore`)).json(), { id: b.id, deletedAt: null });
  const audit = await db.select().from(auditLogs).where(eq(auditLogs.entityId, b.id)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
  t.same(audit.map((x) => x.action), ['create', 'delete', 'restore']);
});

t.test('custom fields of entity ticket; batch create with one bad record', async (t) => {
  await created('/v1/custom-fields', { entity: 'ticket', key: 'product', label: 'Product', type: 'select', options: ['router', 'modem'] });
  const tk = await created('/v1/tickets', { subject: 'Custom', requesterId: requester.id, custom: { product: 'router' } });
  t.same(tk.custom, { product: 'router' });
  t.match((await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, custom: { product: 'toaster' } })).json(), { errors: [{ path: 'custom.product' }] });
  t.match((await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, custom: { nope: 1 } })).json(), { errors: [{ path: 'custom.nope' }] });
  const filtered = await req('GET', '/v1/tickets?filter[custom.product][eq]=router');
  t.same(filtered.json().data.map((x: { id: string }) => x.id), [tk.id]);

  const batch = await req('POST', '/v1/tickets/batch', { operation: 'create', records: [{ subject: 'B1', requesterId: requester.id }, { requesterId: requester.id }] }, support);
  t.equal(batch.statusCode, 200);
  t.match(batch.json().results, [{ index: 0, status: 'created' }, { index: 1, status: 'error', error: { code: 'validation_failed' } }]);
  const upd = await req('POST', '/v1/tickets/batch', { operation: 'update', records: [{ id: batch.json().results[0].id, priority: 'high' }] }, support);
  t.match(upd.json().results, [{ status: 'updated' }]);
});

t.test('round robin: each new ticket of the team goes to its next active agent in turn, also concurrently', async (t) => {
  const team = await created('/v1/teams', { name: `Tier 1 ${randomUUID()}` });
  const user = (role: string) =>
    created('/v1/users', { email: `${role}-${randomUUID()}@example.com`, password: `pw-${randomUUID()}`, name: `${role} agent`, role, teamIds: [team.id] });
  const agents = [await user('support'), await user('support'), await user('manager')].map((u) => u.id).sort();
  await user('sales'); // in the team, but sales does not work tickets
  const gone = await user('support');
  await req('PATCH', `/v1/users/${gone.id}`, { active: false });
  const assignees: string[] = [];
  for (let i = 0; i < 4; i++) {
    const tk = await created('/v1/tickets', { subject: `RR ${i}`, requesterId: requester.id, teamId: team.id, assignment: 'round_robin' }, support);
    assignees.push(tk.assigneeId);
  }
  t.same(assignees, [agents[0], agents[1], agents[2], agents[0]], 'in user-id order, wrapping around, skipping sales and inactive users');
  const burst = await Promise.all(Array.from({ length: 6 }, (_, i) =>
    created('/v1/tickets', { subject: `Burst ${i}`, requesterId: requester.id, teamId: team.id, assignment: 'round_robin' })));
  const counts = new Map<string, number>();
  for (const tk of burst) counts.set(tk.assigneeId, (counts.get(tk.assigneeId) ?? 0) + 1);
  t.same([...counts.values()], [2, 2, 2], 'concurrent creates still take turns');
  const later = await created('/v1/tickets', { subject: 'Later', requesterId: requester.id, teamId: team.id });
  t.equal(later.assigneeId, null);
  const patched = (await req('PATCH', `/v1/tickets/${later.id}`, { assignment: 'round_robin' }, support)).json();
  t.ok(agents.includes(patched.assigneeId), 'a patch can ask for the next agent too');
  t.match((await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, assignment: 'round_robin' })).json(), { errors: [{ path: 'teamId' }] });
  const both = await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id, teamId: team.id, assignment: 'round_robin', assigneeId: agents[0] });
  t.match(both.json(), { code: 'validation_failed', errors: [{ path: 'assignment' }] });
  const evs = await db.select().from(events).where(eq(events.entityId, later.id));
  t.ok(evs.some((e) => e.type === 'ticket.assigned'));
});

t.test('roles: support writes; sales and viewer read; marketing refused everywhere; no token 401', async (t) => {
  const tk = await created('/v1/tickets', { subject: 'Roles', requesterId: requester.id });
  t.equal((await req('PATCH', `/v1/tickets/${tk.id}`, { priority: 'high' }, support)).statusCode, 200);
  for (const who of [sales, viewer]) {
    t.equal((await req('GET', `/v1/tickets/${tk.id}`, undefined, who)).statusCode, 200, `${who.role} reads`);
    t.equal((await req('GET', '/v1/tickets', undefined, who)).statusCode, 200);
    t.equal((await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id }, who)).statusCode, 403, `${who.role} may not create`);
    t.equal((await req('PATCH', `/v1/tickets/${tk.id}`, { priority: 'low' }, who)).statusCode, 403);
    t.equal((await req('DELETE', `/v1/tickets/${tk.id}`, undefined, who)).statusCode, 403);
  }
  for (const [method, url] of [['GET', '/v1/tickets'], ['GET', '/v1/tickets/count'], ['GET', `/v1/tickets/${tk.id}`], ['PATCH', `/v1/tickets/${tk.id}`],
    ['DELETE', `/v1/tickets/${tk.id}`], ['POST', '/v1/tickets'], ['POST', `/v1/tickets/${tk.id}/restore`]] as const) {
    const res = await req(method, url, method === 'GET' || method === 'DELETE' ? undefined : { subject: 'x', requesterId: requester.id }, marketing);
    t.equal(res.statusCode, 403, `marketing: ${method} ${url}`);
  }
  t.equal((await req('GET', '/v1/tickets', undefined, null)).statusCode, 401);
  t.equal((await req('POST', '/v1/tickets', { subject: 'x', requesterId: requester.id }, null)).statusCode, 401);
  t.equal((await req('GET', `/v1/tickets/${tk.id}`)).json().priority, 'high', 'refused writes changed nothing');
});
