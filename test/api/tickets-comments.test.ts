import { randomUUID } from 'node:crypto';
import t from 'tap';
import { and, asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';
import { feedback } from '../../src/modules/customer/feedback.table.js';

// Ticket comments, satisfaction and the ticket's place in the customer's record (API.md §5): the first
// public agent comment stamps firstRespondedAt; a requester's public comment reopens a pending ticket;
// CSAT once per solved ticket, also stored as feedback; timeline, 360 view, merges and GDPR.

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

await created('/v1/sla-policies', { name: 'Default', isDefault: true, targets: [{ priority: 'normal', firstResponseMinutes: 60, resolutionMinutes: 600 }] });
const requester = await created('/v1/contacts', { firstName: 'Carla', lastName: 'Comments', email: 'carla@example.com' });
const newTicket = (extra: Record<string, unknown> = {}) => created('/v1/tickets', { subject: 'Help', requesterId: requester.id, ...extra });
const get = async (id: string) => (await req('GET', `/v1/tickets/${id}`)).json();
const comment = (id: string, body: Record<string, unknown>, who: Who = support) => req('POST', `/v1/tickets/${id}/comments`, body, who);

t.test('the first public agent comment stamps firstRespondedAt; internal notes and later replies do not', async (t) => {
  const tk = await newTicket();
  const note = await comment(tk.id, { body: 'Checking logs', visibility: 'internal' });
  t.equal(note.statusCode, 201);
  t.match(note.json(), { ticketId: tk.id, body: 'Checking logs', visibility: 'internal', authorType: 'user', authorId: support.id, version: 1 });
  t.equal(note.headers.location, `/v1/tickets/${tk.id}/comments/${note.json().id}`);
  t.equal((await get(tk.id)).firstRespondedAt, null, 'an internal note is no response');
  const fromCustomer = await comment(tk.id, { body: 'Any news?', fromRequester: true });
  t.match(fromCustomer.json(), { authorType: 'contact', authorId: requester.id, visibility: 'public' });
  t.equal((await get(tk.id)).firstRespondedAt, null, 'the requester\'s own words are no response');
  const reply = (await comment(tk.id, { body: 'We are on it' })).json();
  const stamped = await get(tk.id);
  t.ok(stamped.firstRespondedAt, 'stamped');
  t.ok(Math.abs(Date.parse(stamped.firstRespondedAt) - Date.parse(reply.createdAt)) < 60_000);
  await comment(tk.id, { body: 'Second reply' });
  t.equal((await get(tk.id)).firstRespondedAt, stamped.firstRespondedAt, 'only the first one counts');
  t.equal((await comment(tk.id, { body: 'x', fromRequester: true, visibility: 'internal' })).statusCode, 400);
  t.match((await comment(tk.id, { body: '' })).json(), { code: 'validation_failed', errors: [{ path: 'body' }] });
  t.match((await comment(tk.id, { body: 'x', authorId: randomUUID() })).json(), { errors: [{ path: 'authorId', message: 'is read-only' }] });
  t.equal((await comment(randomUUID(), { body: 'x' })).statusCode, 404);

  const evs = await db.select().from(events).where(eq(events.entityId, reply.id));
  t.same(evs.map((e) => e.type), ['ticket_comment.created']);
  t.match(evs[0]?.data, { after: { ticketId: tk.id, body: 'We are on it' } });
  const audit = await db.select().from(auditLogs).where(and(eq(auditLogs.entityId, tk.id), eq(auditLogs.action, 'update')));
  t.equal(audit.length, 1, 'the stamp is one audited ticket update');
});

t.test('a public comment from the requester moves a pending ticket back to open (clock resumed)', async (t) => {
  const tk = await newTicket();
  await req('PATCH', `/v1/tickets/${tk.id}`, { status: 'pending' }, support);
  await comment(tk.id, { body: 'Internal, while pending', visibility: 'internal' });
  t.equal((await get(tk.id)).status, 'pending', 'an agent note leaves it pending');
  await comment(tk.id, { body: 'Here is the screenshot', fromRequester: true });
  t.match(await get(tk.id), { status: 'open', slaPausedAt: null });
  const evs = await db.select().from(events).where(eq(events.entityId, tk.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.ok(evs.some((e) => e.type === 'ticket.status_changed' && (e.data as { after: { status: string } }).after.status === 'open'));

  const solved = await newTicket({ status: 'solved' });
  await comment(solved.id, { body: 'Still broken', fromRequester: true });
  t.match(await get(solved.id), { status: 'open', solvedAt: null }, 'a requester reply reopens a solved ticket as well');
  const closed = await newTicket({ status: 'closed' });
  t.match((await comment(closed.id, { body: 'Hello?', fromRequester: true })).json(), { code: 'conflict' }, 'closed is final');
});

t.test('comments list oldest first, keyset-paged, filterable; patch and delete', async (t) => {
  const tk = await newTicket();
  const ids: string[] = [];
  for (const [body, visibility] of [['one', 'public'], ['two', 'internal'], ['three', 'public']] as const) {
    ids.push((await comment(tk.id, { body, visibility })).json().id);
  }
  const url = `/v1/tickets/${tk.id}/comments`;
  t.same((await req('GET', url, undefined, viewer)).json().data.map((c: { body: string }) => c.body), ['one', 'two', 'three']);
  t.same((await req('GET', `${url}?sort=-createdAt`, undefined, sales)).json().data.map((c: { body: string }) => c.body), ['three', 'two', 'one']);
  const p1 = (await req('GET', `${url}?limit=2`)).json();
  const p2 = (await req('GET', `${url}?limit=2&cursor=${encodeURIComponent(p1.nextCursor)}`)).json();
  t.same([...p1.data, ...p2.data].map((c: { body: string }) => c.body), ['one', 'two', 'three']);
  t.equal(p2.nextCursor, null);
  t.same((await req('GET', `${url}?filter[visibility][eq]=internal`)).json().data.map((c: { body: string }) => c.body), ['two']);
  t.match((await req('GET', `${url}?sort=body`)).json(), { code: 'validation_failed' });

  const edited = await req('PATCH', `${url}/${ids[0]}`, { body: 'one (edited)' }, support, { 'if-match': '"1"' });
  t.match(edited.json(), { body: 'one (edited)', version: 2 });
  t.equal((await req('PATCH', `${url}/${ids[0]}`, { body: 'again' }, support, { 'if-match': '"1"' })).statusCode, 412);
  t.match((await req('PATCH', `${url}/${ids[0]}`, { visibility: 'internal' })).json(), { errors: [{ path: 'visibility', message: 'is read-only' }] });
  t.equal((await req('DELETE', `${url}/${ids[1]}`, undefined, support)).statusCode, 204);
  t.same((await req('GET', url)).json().data.map((c: { body: string }) => c.body), ['one (edited)', 'three']);
  t.equal((await req('DELETE', `${url}/${ids[1]}`)).statusCode, 404);
  t.equal((await req('DELETE', `/v1/tickets/${randomUUID()}/comments/${ids[2]}`)).statusCode, 404);
  const evs = await db.select().from(events).where(eq(events.entityId, ids[1] as string)).orderBy(asc(events.occurredAt), asc(events.id));
  t.same(evs.map((e) => e.type), ['ticket_comment.created', 'ticket_comment.deleted']);

  for (const who of [sales, viewer]) t.equal((await comment(tk.id, { body: 'x' }, who)).statusCode, 403, `${who.role} may not comment`);
  t.equal((await req('GET', url, undefined, marketing)).statusCode, 403);
  t.equal((await comment(tk.id, { body: 'x' }, marketing)).statusCode, 403);
  t.equal((await req('GET', url, undefined, null)).statusCode, 401);
});

t.test('satisfaction: once per solved or closed ticket, stored on it and as CSAT feedback on the requester', async (t) => {
  const tk = await newTicket();
  const rate = (body: unknown, who: Who = support) => req('POST', `/v1/tickets/${tk.id}/satisfaction`, body, who);
  t.match((await rate({ score: 5 })).json(), { code: 'conflict', errors: [{ path: 'status' }] }, 'not before it is solved');
  await req('PATCH', `/v1/tickets/${tk.id}`, { status: 'solved' }, support);
  t.match((await rate({ score: 6 })).json(), { code: 'validation_failed', errors: [{ path: 'score' }] });
  t.match((await rate({ score: 4, mood: 'x' })).json(), { errors: [{ path: 'mood' }] });
  t.equal((await rate({ score: 4 }, sales)).statusCode, 403);
  const ok = await rate({ score: 4, comment: 'Quick and kind' });
  t.equal(ok.statusCode, 200);
  t.match(ok.json(), { id: tk.id, satisfactionScore: 4, satisfactionComment: 'Quick and kind', satisfactionAt: String, status: 'solved' });
  t.equal(ok.headers.etag, `"${ok.json().version}"`);
  const again = await rate({ score: 1 });
  t.equal(again.statusCode, 409);
  t.match(again.json(), { code: 'conflict' });
  const rows = await db.select().from(feedback).where(eq(feedback.ticketId, tk.id));
  t.equal(rows.length, 1);
  t.match(rows[0], { type: 'csat', score: 4, comment: 'Quick and kind', contactId: requester.id, ticketId: tk.id });
  const closed = await newTicket({ status: 'closed' });
  t.equal((await req('POST', `/v1/tickets/${closed.id}/satisfaction`, { score: 2 })).statusCode, 200, 'a closed ticket can be rated too');
  t.equal((await req('GET', `/v1/tickets?filter[satisfactionScore][lte]=2`)).json().data[0]?.id, closed.id);
});

t.test('tickets on the contact timeline and openTickets in the 360 view (absent for marketing)', async (t) => {
  const c = await created('/v1/contacts', { firstName: 'Tina', lastName: 'Timeline' });
  const open = await created('/v1/tickets', { subject: 'Open one', requesterId: c.id });
  const solved = await created('/v1/tickets', { subject: 'Solved one', requesterId: c.id, status: 'solved' });
  const pending = await created('/v1/tickets', { subject: 'Pending one', requesterId: c.id, status: 'pending' });
  const view = (await req('GET', `/v1/contacts/${c.id}/360`, undefined, viewer)).json();
  t.same(view.openTickets.map((x: { id: string }) => x.id), [pending.id, open.id], 'new, open and pending ones, newest first');
  t.match(view.openTickets[0], { subject: 'Pending one', status: 'pending', requesterId: c.id });
  const forMarketing = (await req('GET', `/v1/contacts/${c.id}/360`, undefined, marketing)).json();
  t.notOk('openTickets' in forMarketing, 'marketing may not read tickets');
  t.ok(forMarketing.contact, 'but gets the rest of the view');

  const items = (await req('GET', `/v1/contacts/${c.id}/timeline`, undefined, sales)).json().data.filter((i: { type: string }) => i.type === 'ticket');
  t.same(items.map((i: { entityId: string }) => i.entityId), [pending.id, solved.id, open.id]);
  t.match(items[1], { entityType: 'ticket', summary: 'Ticket "Solved one" (solved)', data: { subject: 'Solved one', status: 'solved', requesterId: c.id } });
  const mk = (await req('GET', `/v1/contacts/${c.id}/timeline`, undefined, marketing)).json().data;
  t.notOk(mk.some((i: { type: string }) => i.type === 'ticket'), 'no ticket items for marketing');
  await req('DELETE', `/v1/tickets/${open.id}`);
  const after = (await req('GET', `/v1/contacts/${c.id}/timeline`)).json().data.filter((i: { type: string }) => i.type === 'ticket');
  t.equal(after.length, 2, 'a deleted ticket leaves the timeline');
});

t.test('merging contacts moves the duplicates\' tickets and requester comments to the primary', async (t) => {
  const primary = await created('/v1/contacts', { firstName: 'Mona', lastName: 'Merge' });
  const dup = await created('/v1/contacts', { firstName: 'Mona', lastName: 'Merge (dup)' });
  const tk = await created('/v1/tickets', { subject: 'From the duplicate', requesterId: dup.id });
  const words = (await comment(tk.id, { body: 'my words', fromRequester: true })).json();
  const res = await req('POST', '/v1/contacts/merge', { primaryId: primary.id, duplicateIds: [dup.id] });
  t.equal(res.statusCode, 200);
  const moved = await get(tk.id);
  t.equal(moved.requesterId, primary.id);
  t.equal(moved.version, tk.version + 1, 'the move made a new version (a requester comment changes nothing on a new ticket)');
  const list = (await req('GET', `/v1/tickets/${tk.id}/comments`)).json().data;
  t.match(list.find((c: { id: string }) => c.id === words.id), { authorType: 'contact', authorId: primary.id });
  const audit = await db.select().from(auditLogs).where(eq(auditLogs.entityId, tk.id)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
  t.match(audit.at(-1), { action: 'update', before: { requesterId: dup.id }, after: { requesterId: primary.id } });
});

t.test('GDPR: the export carries the tickets with comments; erasure blanks them', async (t) => {
  const person = await created('/v1/contacts', { firstName: 'Greta', lastName: 'Gdpr', email: 'greta.gdpr@example.com' });
  const tk = await created('/v1/tickets', { subject: 'Greta cannot log in', description: 'Her phone is 0555', requesterId: person.id });
  await comment(tk.id, { body: 'Greta here, still locked out', fromRequester: true });
  const agentReply = (await comment(tk.id, { body: 'Reset link sent' })).json();
  const doc = (await req('GET', `/v1/contacts/${person.id}/export`)).json();
  t.match(doc.tickets, [{ id: tk.id, subject: 'Greta cannot log in', comments: [{ body: 'Greta here, still locked out' }, { body: 'Reset link sent' }] }]);
  const erased = await req('POST', `/v1/contacts/${person.id}/erase`);
  t.equal(erased.statusCode, 200);
  const after = await get(tk.id);
  t.match(after, { subject: '[erased]', description: null });
  const list = (await req('GET', `/v1/tickets/${tk.id}/comments`)).json().data;
  t.same(list.map((c: { body: string }) => c.body), ['[erased]', 'Reset link sent'], 'the agent\'s reply is the company\'s record');
  t.equal(list[1].id, agentReply.id);
  t.equal((await req('GET', '/v1/tickets?q=greta')).json().data.length, 0, 'no longer found by search');
});
