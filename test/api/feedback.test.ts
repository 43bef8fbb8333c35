import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';

// Feedback (API.md §5): NPS 0–10, CSAT 1–5, CES 1–7 answers of a contact over REST and GraphQL, the
// roles of §4 (admin, manager, support write; the others read), lastNps on the 360 view and the
// answers on the contact timeline.

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
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const contact = await created('/v1/contacts', { firstName: 'Fay', lastName: 'Feedback' });
const other = await created('/v1/contacts', { firstName: 'Omar', lastName: 'Other' });

/** `who` null: no Authorization header at all */
async function gql(query: string, variables?: Record<string, unknown>, who: Who | null = admin) {
  const res = await h.gql(who ?? undefined, query, variables);
  const errors = res.body.errors ?? [];
  return { data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}

t.test('create: each type takes exactly its range; out of range is a 400 naming score and the range', async (t) => {
  const cases: [string, number, boolean, RegExp?][] = [
    ['nps', 0, true], ['nps', 10, true], ['nps', 11, false, /0 to 10 for NPS/], ['nps', -1, false, /0 to 10/],
    ['csat', 1, true], ['csat', 5, true], ['csat', 0, false, /1 to 5 for CSAT/], ['csat', 6, false, /1 to 5/],
    ['ces', 1, true], ['ces', 7, true], ['ces', 8, false, /1 to 7 for CES/], ['ces', 0, false, /1 to 7/],
  ];
  for (const [type, score, ok, message] of cases) {
    const res = await req('POST', '/v1/feedback', { type, score, contactId: other.id });
    if (ok) {
      t.equal(res.statusCode, 201, `${type} ${score} accepted`);
      t.match(res.json(), { type, score, contactId: other.id, version: 1, ownerId: admin.id, ticketId: null, comment: null });
      t.equal(res.headers.etag, '"1"');
      t.equal(res.headers.location, `/v1/feedback/${res.json().id}`);
    } else {
      t.equal(res.statusCode, 400, `${type} ${score} refused`);
      t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'score', message }] });
    }
  }
  const fraction = await req('POST', '/v1/feedback', { type: 'nps', score: 7.5, contactId: other.id });
  t.match(fraction.json(), { code: 'validation_failed', errors: [{ path: 'score' }] }, 'scores are integers');
});

t.test('create: unknown and read-only fields, missing fields, bad references', async (t) => {
  const unknown = await req('POST', '/v1/feedback', { type: 'nps', score: 5, contactId: contact.id, mood: 'x' });
  t.match(unknown.json(), { code: 'validation_failed', errors: [{ path: 'mood', message: 'is not a known field' }] });
  const readOnly = await req('POST', '/v1/feedback', { type: 'nps', score: 5, contactId: contact.id, version: 3 });
  t.match(readOnly.json(), { code: 'validation_failed', errors: [{ path: 'version', message: 'is read-only' }] });
  const missing = await req('POST', '/v1/feedback', { comment: 'no type' });
  t.equal(missing.statusCode, 400);
  t.same(missing.json().errors.map((e: { path: string }) => e.path).sort(), ['contactId', 'score', 'type']);
  const badType = await req('POST', '/v1/feedback', { type: 'stars', score: 5, contactId: contact.id });
  t.match(badType.json(), { code: 'validation_failed', errors: [{ path: 'type' }] });

  const ghost = await req('POST', '/v1/feedback', { type: 'nps', score: 5, contactId: randomUUID() });
  t.equal(ghost.statusCode, 422);
  t.match(ghost.json(), { code: 'invalid_reference', errors: [{ path: 'contactId' }] });
  const gone = await created('/v1/contacts', { firstName: 'Gone' });
  await req('DELETE', `/v1/contacts/${gone.id}`);
  const deleted = await req('POST', '/v1/feedback', { type: 'nps', score: 5, contactId: gone.id });
  t.match(deleted.json(), { code: 'invalid_reference', status: 422 }, 'a deleted contact is no reference');

  const ticket = await created('/v1/tickets', { subject: 'Feedback about me', requesterId: contact.id });
  const withTicket = await created('/v1/feedback', { type: 'csat', score: 4, comment: 'Solved fast', contactId: contact.id, ticketId: ticket.id });
  t.equal(withTicket.ticketId, ticket.id, 'an existing ticket is kept');
  const unknownTicket = await req('POST', '/v1/feedback', { type: 'csat', score: 4, contactId: contact.id, ticketId: randomUUID() });
  t.equal(unknownTicket.statusCode, 422);
  t.match(unknownTicket.json(), { code: 'invalid_reference', errors: [{ path: 'ticketId' }] }, 'an unknown ticket is no reference');
});

t.test('read, merge patch with versions, 412, delete, restore; audit rows and events', async (t) => {
  const fb = await created('/v1/feedback', { type: 'nps', score: 6, comment: 'ok', contactId: contact.id });
  const got = await req('GET', `/v1/feedback/${fb.id}`);
  t.equal(got.statusCode, 200);
  t.same(got.json(), fb);
  t.equal(got.headers.etag, '"1"');
  t.equal((await req('GET', `/v1/feedback/${randomUUID()}`)).statusCode, 404);
  t.match((await req('GET', '/v1/feedback/nope')).json(), { code: 'validation_failed', errors: [{ path: 'id' }] });
  t.equal((await req('PATCH', `/v1/feedback/${randomUUID()}`, { score: 1 })).statusCode, 404);

  const switched = await req('PATCH', `/v1/feedback/${fb.id}`, { type: 'csat' });
  t.match(switched.json(), { code: 'validation_failed', errors: [{ path: 'score', message: /1 to 5 for CSAT/ }] }, 'the score is checked against the new type');
  const p = await req('PATCH', `/v1/feedback/${fb.id}`, { score: 9, comment: null }, admin, { 'if-match': '"1"' });
  t.equal(p.statusCode, 200);
  t.match(p.json(), { score: 9, comment: null, version: 2, type: 'nps' });
  t.equal(p.headers.etag, '"2"');
  const stale = await req('PATCH', `/v1/feedback/${fb.id}`, { score: 3 }, admin, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { id: fb.id, version: 2, score: 9 } });
  const same = await req('PATCH', `/v1/feedback/${fb.id}`, { score: 9 });
  t.equal(same.json().version, 2, 'a patch that changes nothing leaves the version');
  const ref = await req('PATCH', `/v1/feedback/${fb.id}`, { contactId: randomUUID() });
  t.equal(ref.statusCode, 422);

  t.equal((await req('DELETE', `/v1/feedback/${fb.id}`)).statusCode, 204);
  t.equal((await req('GET', `/v1/feedback/${fb.id}`)).statusCode, 404);
  t.match((await req('GET', `/v1/feedback/${fb.id}?includeDeleted=true`)).json(), { id: fb.id, deletedAt: String });
  t.equal((await req('POST', `/v1/feedback/${fb.id}/restore`, undefined, support)).statusCode, 403, 'restore is for admin and manager');
  const restored = await req('POST', `/v1/feedback/${fb.id}/restore`);
  t.match(restored.json(), { id: fb.id, deletedAt: null, version: 4 });

  const audit = await db.select().from(auditLogs).where(eq(auditLogs.entityId, fb.id)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
  t.same(audit.map((a) => a.action), ['create', 'update', 'delete', 'restore']);
  t.same([audit[1]!.before, audit[1]!.after], [{ score: 6, comment: 'ok' }, { score: 9, comment: null }]);
  const evs = await db.select().from(events).where(eq(events.entityId, fb.id)).orderBy(asc(events.occurredAt), asc(events.id));
  t.same(evs.map((e) => e.type), ['feedback.created', 'feedback.updated', 'feedback.deleted', 'feedback.restored']);
});

t.test('roles: support writes; sales, marketing and viewer read only; no token 401', async (t) => {
  const byAdmin = await created('/v1/feedback', { type: 'ces', score: 3, contactId: other.id });
  const bySupport = await req('POST', '/v1/feedback', { type: 'ces', score: 2, contactId: other.id }, support);
  t.equal(bySupport.statusCode, 201);
  t.equal(bySupport.json().ownerId, support.id);
  t.equal((await req('PATCH', `/v1/feedback/${byAdmin.id}`, { score: 4 }, support)).statusCode, 200, 'support changes any feedback');
  for (const who of [sales, marketing, viewer]) {
    t.equal((await req('POST', '/v1/feedback', { type: 'nps', score: 1, contactId: other.id }, who)).statusCode, 403, `${who.role} may not create`);
    t.equal((await req('PATCH', `/v1/feedback/${byAdmin.id}`, { score: 5 }, who)).statusCode, 403, `${who.role} may not change`);
    t.equal((await req('DELETE', `/v1/feedback/${byAdmin.id}`, undefined, who)).statusCode, 403, `${who.role} may not delete`);
    t.equal((await req('GET', `/v1/feedback/${byAdmin.id}`, undefined, who)).statusCode, 200, `${who.role} reads`);
    t.equal((await req('GET', '/v1/feedback?includeDeleted=true', undefined, who)).statusCode, 403, `${who.role} may not see deleted`);
  }
  const anon = await req('GET', '/v1/feedback', undefined, null);
  t.equal(anon.statusCode, 401);
  t.equal((await req('POST', '/v1/feedback', { type: 'nps', score: 1, contactId: other.id }, null)).statusCode, 401);
  t.equal((await req('GET', `/v1/feedback/${byAdmin.id}`)).json().score, 4, 'refused writes changed nothing');
});

t.test('list: filters, sorts, paging, count, include=contact; unknown filter 400', async (t) => {
  const c = await created('/v1/contacts', { firstName: 'Lister' });
  const ticketId = (await created('/v1/tickets', { subject: 'Listed feedback', requesterId: c.id })).id;
  for (const [type, score] of [['nps', 2], ['nps', 9], ['csat', 3], ['ces', 5], ['nps', 7]] as const) {
    await created('/v1/feedback', { type, score, contactId: c.id, ...(type === 'csat' ? { ticketId } : {}) });
  }
  const list = (query: Record<string, string>) => req('GET', `/v1/feedback?${new URLSearchParams({ 'filter[contactId][eq]': c.id, ...query })}`);
  const nps = (await list({ 'filter[type][eq]': 'nps', sort: '-score' })).json();
  t.same(nps.data.map((f: { score: number }) => f.score), [9, 7, 2]);
  t.same((await list({ 'filter[score][gte]': '5', sort: 'score' })).json().data.map((f: { score: number }) => f.score), [5, 7, 9]);
  t.same((await list({ 'filter[ticketId][eq]': ticketId })).json().data.map((f: { type: string }) => f.type), ['csat']);
  t.equal((await list({ 'filter[createdAt][gt]': '2000-01-01T00:00:00.000Z' })).json().data.length, 5);
  const newest = (await list({})).json().data;
  t.same(newest.map((f: { score: number }) => f.score), [7, 5, 3, 9, 2], 'newest first by default');

  const first = (await list({ limit: '2', sort: 'type,-score' })).json();
  const second = (await list({ limit: '2', sort: 'type,-score', cursor: first.nextCursor })).json();
  const third = (await list({ limit: '2', sort: 'type,-score', cursor: second.nextCursor })).json();
  t.same([...first.data, ...second.data, ...third.data].map((f: { type: string; score: number }) => `${f.type}${f.score}`), ['ces5', 'csat3', 'nps9', 'nps7', 'nps2']);
  t.equal(third.nextCursor, null);

  const count = await req('GET', `/v1/feedback/count?filter[contactId][eq]=${c.id}&filter[type][in]=nps,ces`);
  t.same(count.json(), { count: 4 });
  const inc = (await list({ include: 'contact', fields: 'score', 'filter[type][eq]': 'ces' })).json();
  t.same(inc.data, [{ id: inc.data[0].id, score: 5, contact: c }], 'fields= keeps the included relation');
  t.match((await list({ 'filter[comment][eq]': 'x' })).json(), { code: 'validation_failed' });
  t.match((await list({ sort: 'comment' })).json(), { code: 'validation_failed' });
});

t.test('360 lastNps: the newest live NPS answer, null when none; feedback on the contact timeline', async (t) => {
  const c = await created('/v1/contacts', { firstName: 'Nina', lastName: 'Nps' });
  t.same((await req('GET', `/v1/contacts/${c.id}/360`)).json().lastNps, null, 'null, not absent, when there is no answer');
  await created('/v1/feedback', { type: 'nps', score: 4, comment: 'Meh', contactId: c.id });
  const latest = await created('/v1/feedback', { type: 'nps', score: 9, comment: 'Great service', contactId: c.id });
  await created('/v1/feedback', { type: 'csat', score: 1, comment: 'Not NPS', contactId: c.id });
  const view = (await req('GET', `/v1/contacts/${c.id}/360`, undefined, viewer)).json();
  t.same(view.lastNps, { score: 9, comment: 'Great service', createdAt: latest.createdAt });

  const timeline = (await req('GET', `/v1/contacts/${c.id}/timeline`)).json().data.filter((i: { type: string }) => i.type === 'feedback');
  t.same(timeline.map((i: { summary: string }) => i.summary), ['CSAT 1: "Not NPS"', 'NPS 9: "Great service"', 'NPS 4: "Meh"']);
  t.match(timeline[1], { entityType: 'feedback', entityId: latest.id, data: { id: latest.id, type: 'nps', score: 9, contactId: c.id } });

  await req('DELETE', `/v1/feedback/${latest.id}`);
  t.match((await req('GET', `/v1/contacts/${c.id}/360`)).json().lastNps, { score: 4, comment: 'Meh' }, 'a deleted answer no longer counts');
  const after = (await req('GET', `/v1/contacts/${c.id}/timeline`)).json().data.filter((i: { type: string }) => i.type === 'feedback');
  t.equal(after.length, 2, 'deleted feedback leaves the timeline');
});

const FIELDS = 'id version type score comment contactId ticketId ownerId deletedAt';
const CREATE = `mutation($input: FeedbackCreateInput!) { createFeedback(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: FeedbackPatchInput!, $v: Int) { updateFeedback(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;

t.test('GraphQL: create, read, update with expectedVersion, delete, restore, list and count', async (t) => {
  const c = await created('/v1/contacts', { firstName: 'Graph', lastName: 'Feedback' });
  const made = await gql(CREATE, { input: { type: 'nps', score: 8, comment: 'Good', contactId: c.id } });
  t.same(made.errors, []);
  const fb = made.data?.createFeedback;
  t.match(fb, { version: 1, type: 'nps', score: 8, comment: 'Good', contactId: c.id, ownerId: admin.id });
  const one = await gql(`query($id: ID!) { feedback(id: $id) { ${FIELDS} contact { id firstName } owner { id } } }`, { id: fb.id });
  t.match(one.data?.feedback, { ...fb, contact: { id: c.id, firstName: 'Graph' } });
  t.same((await req('GET', `/v1/feedback/${fb.id}`)).json().score, 8, 'REST sees the same record');

  const range = await gql(CREATE, { input: { type: 'ces', score: 9, contactId: c.id } });
  t.same(range.codes, ['validation_failed']);
  t.match(range.errors[0]?.extensions.errors, [{ path: 'score', message: /1 to 7 for CES/ }]);
  t.same((await gql(CREATE, { input: { type: 'nps', score: 1, contactId: randomUUID() } })).codes, ['invalid_reference']);
  t.same((await gql(CREATE, { input: { type: 'nps', score: 1, contactId: c.id, mood: 'x' } })).codes, ['validation_failed']);

  const ok = await gql(UPDATE, { id: fb.id, input: { score: 10 }, v: 1 });
  t.match(ok.data?.updateFeedback, { score: 10, version: 2 });
  t.same((await gql(UPDATE, { id: fb.id, input: { score: 1 }, v: 1 })).codes, ['version_conflict']);
  t.same((await gql(UPDATE, { id: randomUUID(), input: { score: 1 } })).codes, ['not_found']);
  await gql(CREATE, { input: { type: 'csat', score: 2, contactId: c.id } });

  const list = await gql(`query($c: ID!) { feedbacks(filter: { contactId: { eq: $c }, type: { in: [nps, csat] } }, sort: [{ field: score, direction: DESC }], first: 1) {
    edges { node { score } cursor } pageInfo { hasNextPage endCursor } } }`, { c: c.id });
  t.same(list.data?.feedbacks.edges.map((e: { node: { score: number } }) => e.node.score), [10]);
  t.equal(list.data?.feedbacks.pageInfo.hasNextPage, true);
  const count = await gql('query($c: ID!) { feedbacksCount(filter: { contactId: { eq: $c }, score: { lte: 5 } }) }', { c: c.id });
  t.equal(count.data?.feedbacksCount, 1);

  t.equal((await gql('mutation($id: ID!) { deleteFeedback(id: $id) }', { id: fb.id })).data?.deleteFeedback, true);
  t.same((await gql(`query($id: ID!) { feedback(id: $id) { id } }`, { id: fb.id })).codes, ['not_found']);
  t.match((await gql('mutation($id: ID!) { restoreFeedback(id: $id) { id deletedAt } }', { id: fb.id })).data?.restoreFeedback, { id: fb.id, deletedAt: null });
});

t.test('GraphQL: roles, anonymous, Contact.feedback, contact360.lastNps and feedback timeline items', async (t) => {
  const c = await created('/v1/contacts', { firstName: 'Loaded' });
  for (const who of [sales, marketing, viewer]) {
    t.same((await gql(CREATE, { input: { type: 'nps', score: 5, contactId: c.id } }, who)).codes, ['forbidden'], `${who.role} may not create`);
  }
  t.same((await gql(CREATE, { input: { type: 'nps', score: 5, contactId: c.id } }, null)).codes, ['unauthenticated']);
  const mine = await gql(CREATE, { input: { type: 'nps', score: 3, comment: 'Slow', contactId: c.id } }, support);
  t.equal(mine.data?.createFeedback.ownerId, support.id);
  await gql(CREATE, { input: { type: 'csat', score: 5, contactId: c.id } }, support);
  await gql(CREATE, { input: { type: 'nps', score: 7, contactId: other.id } });

  const q = `query($ids: [ID!]) { contacts(filter: { id: { in: $ids } }, sort: [{ field: firstName }]) { edges { node { id feedback { type score } } } } }`;
  const res = await gql(q, { ids: [c.id, other.id] }, viewer);
  t.same(res.errors, []);
  const byId = Object.fromEntries(res.data?.contacts.edges.map((e: { node: { id: string; feedback: unknown } }) => [e.node.id, e.node.feedback]));
  t.same(byId[c.id], [{ type: 'csat', score: 5 }, { type: 'nps', score: 3 }], 'newest first');
  t.ok((byId[other.id] as { type: string }[]).some((f) => f.type === 'nps' && (f as unknown as { score: number }).score === 7));

  const view = await gql('query($id: ID!) { contact360(id: $id) { contact { id } lastNps { score comment createdAt } } }', { id: c.id }, sales);
  t.match(view.data?.contact360.lastNps, { score: 3, comment: 'Slow', createdAt: String });
  const none = await created('/v1/contacts', { firstName: 'Silent' });
  t.equal((await gql('query($id: ID!) { contact360(id: $id) { lastNps { score } } }', { id: none.id })).data?.contact360.lastNps, null);

  const tl = await gql('query($id: ID!) { contactTimeline(id: $id) { edges { node { type summary entityType } } } }', { id: c.id });
  t.same(tl.errors, []);
  t.same(tl.data?.contactTimeline.edges.map((e: { node: unknown }) => e.node).filter((n: { type: string }) => n.type === 'feedback'), [
    { type: 'feedback', summary: 'CSAT 5', entityType: 'feedback' },
    { type: 'feedback', summary: 'NPS 3: "Slow"', entityType: 'feedback' },
  ]);
});
