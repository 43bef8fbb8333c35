import { randomUUID } from 'node:crypto';
import t from 'tap';
import { ROLES } from '../../src/platform/auth/actor.js';
import { startTestApp } from '../helpers/app.js';

// GET /v1/contacts/:id/timeline, /v1/companies/:id/timeline and /v1/contacts/:id/360, and their
// GraphQL twins: order, paging without gaps or repeats, field changes after a PATCH, 404s, refusals.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

async function post(url: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload });
  if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}
const get = (url: string, who = admin) => h.request({ method: 'GET', url, headers: who.auth });
const patch = (url: string, payload: Record<string, unknown>) => h.request({ method: 'PATCH', url, headers: admin.auth, payload });

type Item = { type: string; occurredAt: string; entityType: string; entityId: string; summary: string; data: Record<string, any> };

/** Walks a REST timeline page by page; returns the items and how many pages it took. */
async function walk(url: string, limit: number): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    const body = res.json() as { data: Item[]; nextCursor: string | null };
    items.push(...body.data);
    cursor = body.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { items, pages };
}

const company = await post('/v1/companies', { name: 'Timeline Co' });
const contact = await post('/v1/contacts', { firstName: 'Tim', lastName: 'Line', email: 'tim.line@example.com', jobTitle: 'Buyer', companyId: company.id });
const other = await post('/v1/contacts', { firstName: 'Other', lastName: 'Person' });

// Activities at fixed times, two of them at the same instant (the tie is broken by kind, then id).
const times = ['2030-01-01T10:00:00.000Z', '2030-01-02T10:00:00.000Z', '2030-01-03T10:00:00.000Z', '2030-01-03T10:00:00.000Z', '2030-01-04T10:00:00.000Z'];
const acts: { id: string; occurredAt: string; subject: string }[] = [];
for (const [i, occurredAt] of times.entries()) {
  acts.push(await post('/v1/activities', { type: 'call', subject: `TL call ${i}`, occurredAt, contactId: contact.id, companyId: company.id }));
}
const deleted = await post('/v1/activities', { type: 'note', subject: 'TL deleted', occurredAt: '2030-01-05T00:00:00.000Z', contactId: contact.id });
await h.request({ method: 'DELETE', url: `/v1/activities/${deleted.id}`, headers: admin.auth });
const foreign = await post('/v1/activities', { type: 'note', subject: 'TL other', contactId: other.id });

const expectedActivityOrder = [...acts]
  .sort((a, b) => (a.occurredAt === b.occurredAt ? (a.id < b.id ? 1 : -1) : a.occurredAt < b.occurredAt ? 1 : -1))
  .map((a) => a.id);

t.test('the contact timeline lists its live activities newest first, ties by id, nothing of others', async (t) => {
  const res = await get(`/v1/contacts/${contact.id}/timeline`);
  t.equal(res.statusCode, 200);
  const body = res.json() as { data: Item[]; nextCursor: string | null };
  t.equal(body.nextCursor, null);
  const activities = body.data.filter((i) => i.type === 'activity');
  t.same(activities.map((i) => i.entityId), expectedActivityOrder, 'newest first; equal times by id descending');
  t.notOk(body.data.some((i) => i.entityId === deleted.id), 'deleted activity absent');
  t.notOk(body.data.some((i) => i.entityId === foreign.id), "another contact's activity absent");
  t.match(activities[0], {
    type: 'activity', occurredAt: '2030-01-04T10:00:00.000Z', entityType: 'activity', summary: 'call: TL call 4',
    data: { id: acts[4]?.id, type: 'call', subject: 'TL call 4', contactId: contact.id },
  });
  t.notOk(body.data.some((i) => i.type === 'field_change'), 'no field change before any update');
});

t.test('a PATCH appears as a field change naming the changed fields, with before and after', async (t) => {
  t.equal((await patch(`/v1/contacts/${contact.id}`, { jobTitle: 'Head of Buying', email: 'tim@example.com' })).statusCode, 200);
  const body = (await get(`/v1/contacts/${contact.id}/timeline`)).json() as { data: Item[] };
  const changes = body.data.filter((i) => i.type === 'field_change');
  t.equal(changes.length, 1);
  t.match(changes[0], {
    entityType: 'contact', entityId: contact.id, summary: 'Changed email, jobTitle',
    data: { before: { jobTitle: 'Buyer', email: 'tim.line@example.com' }, after: { jobTitle: 'Head of Buying', email: 'tim@example.com' } },
  });
  t.notOk('firstName' in (changes[0]?.data.after ?? {}), 'only changed fields');
  // whole stream newest first
  const stamps = body.data.map((i) => i.occurredAt);
  t.same(stamps, [...stamps].sort().reverse(), 'items are ordered by occurredAt descending');
});

t.test('paging with every page size gives the whole stream once, in order', async (t) => {
  await patch(`/v1/contacts/${contact.id}`, { lifecycleStage: 'customer' });
  const all = await walk(`/v1/contacts/${contact.id}/timeline`, 200);
  t.equal(all.pages, 1);
  t.equal(all.items.length, acts.length + 2, 'five activities and two field changes');
  for (const size of [1, 2, 3]) {
    const paged = await walk(`/v1/contacts/${contact.id}/timeline`, size);
    t.same(paged.items, all.items, `limit=${size}: no gaps, no repeats`);
    t.equal(paged.pages, Math.ceil(all.items.length / size), `limit=${size}: page count`);
  }
});

t.test('the company timeline holds its activities and its own field changes', async (t) => {
  t.equal((await patch(`/v1/companies/${company.id}`, { industry: 'Retail' })).statusCode, 200);
  const body = (await get(`/v1/companies/${company.id}/timeline?limit=200`)).json() as { data: Item[] };
  t.same(body.data.filter((i) => i.type === 'activity').map((i) => i.entityId), expectedActivityOrder);
  t.match(body.data.filter((i) => i.type === 'field_change'), [
    { entityType: 'company', entityId: company.id, summary: 'Changed industry', data: { before: { industry: null }, after: { industry: 'Retail' } } },
  ]);
  t.notOk(body.data.some((i) => i.entityType === 'contact'), "the contact's own changes are not the company's");
});

t.test('404 for unknown or deleted records; 400 for bad limits, cursors and ids; 401 without a token', async (t) => {
  for (const url of [`/v1/contacts/${randomUUID()}/timeline`, `/v1/companies/${randomUUID()}/timeline`, `/v1/contacts/${randomUUID()}/360`]) {
    const res = await get(url);
    t.equal(res.statusCode, 404, url);
    t.equal(res.json().code, 'not_found');
  }
  const gone = await post('/v1/contacts', { firstName: 'Gone' });
  await h.request({ method: 'DELETE', url: `/v1/contacts/${gone.id}`, headers: admin.auth });
  t.equal((await get(`/v1/contacts/${gone.id}/timeline`)).statusCode, 404, 'deleted contact');
  t.equal((await get(`/v1/contacts/${gone.id}/360`)).statusCode, 404, 'deleted contact 360');
  t.equal((await get(`/v1/contacts/${contact.id}/timeline?limit=201`)).statusCode, 400, 'limit over 200');
  const badCursor = await get(`/v1/contacts/${contact.id}/timeline?cursor=${Buffer.from('{"s":"x","v":[]}').toString('base64url')}`);
  t.equal(badCursor.statusCode, 400);
  t.match(badCursor.json(), { code: 'validation_failed', errors: [{ path: 'cursor' }] });
  t.equal((await get('/v1/contacts/not-a-uuid/timeline')).statusCode, 400);
  t.equal((await get(`/v1/contacts/${contact.id}/timeline?sort=x`)).statusCode, 400, 'unknown parameter');
  t.equal((await h.request({ method: 'GET', url: `/v1/contacts/${contact.id}/timeline` })).statusCode, 401);
  t.equal((await h.request({ method: 'GET', url: `/v1/contacts/${contact.id}/360` })).statusCode, 401);
});

t.test('every role reads timelines and the 360 (API.md §4 gives all six read on contacts)', async (t) => {
  for (const role of ROLES) {
    const who = h.user(role);
    t.equal((await get(`/v1/contacts/${contact.id}/timeline`, who)).statusCode, 200, `${role} timeline`);
    t.equal((await get(`/v1/companies/${company.id}/timeline`, who)).statusCode, 200, `${role} company timeline`);
    t.equal((await get(`/v1/contacts/${contact.id}/360`, who)).statusCode, 200, `${role} 360`);
  }
});

t.test('360: contact, company, the 10 newest activities and open tasks; parts a role may not read are absent', async (t) => {
  const c = await post('/v1/contacts', { firstName: 'Three', lastName: 'Sixty', companyId: company.id });
  const made: { id: string }[] = [];
  for (let i = 0; i < 12; i++) {
    made.push(await post('/v1/activities', { type: 'email', subject: `360 mail ${i}`, occurredAt: `2031-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`, contactId: c.id }));
  }
  const late = await post('/v1/activities', { type: 'task', subject: '360 late task', dueAt: '2031-03-01T00:00:00.000Z', occurredAt: '2020-01-01T00:00:00.000Z', contactId: c.id });
  const soon = await post('/v1/activities', { type: 'task', subject: '360 soon task', dueAt: '2031-02-01T00:00:00.000Z', occurredAt: '2020-01-01T00:00:00.000Z', contactId: c.id });
  await post('/v1/activities', { type: 'task', subject: '360 done', completedAt: '2020-01-02T00:00:00.000Z', occurredAt: '2020-01-01T00:00:00.000Z', contactId: c.id });
  await post('/v1/activities', { type: 'task', subject: '360 not mine', contactId: other.id });

  const res = await get(`/v1/contacts/${c.id}/360`);
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.match(body.contact, { id: c.id, firstName: 'Three' });
  t.match(body.company, { id: company.id, name: 'Timeline Co' });
  t.same(body.recentActivities.map((a: { id: string }) => a.id), made.slice(2).reverse().map((a) => a.id), 'ten newest, newest first');
  t.same(body.openTasks.map((a: { id: string }) => a.id), [soon.id, late.id], 'open tasks only, soonest due first');
  t.same(body.openTickets, [], 'no tickets yet: an empty list, not a missing part');
  const marketing = (await h.request({ method: 'GET', url: `/v1/contacts/${c.id}/360`, headers: h.user('marketing').auth })).json();
  t.notOk('openTickets' in marketing, 'a role that may not read tickets gets no openTickets part');

  const lonely = await post('/v1/contacts', { firstName: 'Lonely' });
  t.match((await get(`/v1/contacts/${lonely.id}/360`)).json(), { contact: { id: lonely.id }, company: null, recentActivities: [], openTasks: [] });
});

const TIMELINE = `query($id: ID!, $first: Int, $after: String) {
  contactTimeline(id: $id, first: $first, after: $after) { edges { cursor node { type occurredAt entityType entityId summary data } } pageInfo { hasNextPage endCursor } }
}`;

t.test('GraphQL contactTimeline and companyTimeline: same stream as REST, paged by first/after', async (t) => {
  const rest = await walk(`/v1/contacts/${contact.id}/timeline`, 200);
  const seen: Item[] = [];
  let after: string | null = null;
  for (let i = 0; i < 50; i++) {
    const r = await h.gql(admin, TIMELINE, { id: contact.id, first: 2, after });
    t.same(r.body.errors, undefined);
    const conn = r.body.data?.contactTimeline;
    seen.push(...conn.edges.map((e: { node: Item }) => e.node));
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  t.same(seen, rest.items, 'no gaps, no repeats, REST order');

  const co = await h.gql(admin, `query($id: ID!) { companyTimeline(id: $id, first: 200) { edges { node { type entityId summary } } } }`, { id: company.id });
  t.same(co.body.errors, undefined);
  t.same(co.body.data?.companyTimeline.edges.filter((e: { node: Item }) => e.node.type === 'activity').map((e: { node: Item }) => e.node.entityId), expectedActivityOrder);
  t.ok(co.body.data?.companyTimeline.edges.some((e: { node: Item }) => e.node.summary === 'Changed industry'));

  const missing = await h.gql(admin, TIMELINE, { id: randomUUID() });
  t.equal(missing.body.errors?.[0]?.extensions.code, 'not_found');
  const tooMany = await h.gql(admin, TIMELINE, { id: contact.id, first: 201 });
  t.equal(tooMany.body.errors?.[0]?.extensions.code, 'validation_failed');
  const anon = await h.gql(undefined, TIMELINE, { id: contact.id });
  t.equal(anon.body.errors?.[0]?.extensions.code, 'unauthenticated');
});

t.test('GraphQL contact360 with nested relations', async (t) => {
  const r = await h.gql(admin, `query($id: ID!) { contact360(id: $id) {
    contact { id jobTitle company { name } }
    company { id name }
    recentActivities { id subject owner { id } }
    openTasks { id }
  } }`, { id: contact.id });
  t.same(r.body.errors, undefined);
  const v = r.body.data?.contact360;
  t.match(v, { contact: { id: contact.id, jobTitle: 'Head of Buying', company: { name: 'Timeline Co' } }, company: { id: company.id } });
  t.same(v.recentActivities.map((a: { id: string }) => a.id), expectedActivityOrder);
  t.same(v.openTasks, []);
  const missing = await h.gql(admin, 'query($id: ID!) { contact360(id: $id) { contact { id } } }', { id: randomUUID() });
  t.equal(missing.body.errors?.[0]?.extensions.code, 'not_found');
});
