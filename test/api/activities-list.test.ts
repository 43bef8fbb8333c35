import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// GET /v1/activities with the grammar of API.md §2: filters (incl. "my open tasks"), sorts, keyset
// pages, count, include=contact,company,owner and fields.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const list = (query: Record<string, string>, who = admin) => h.request({ method: 'GET', url: '/v1/activities', headers: who.auth, query });
const count = (query: Record<string, string>, who = admin) => h.request({ method: 'GET', url: '/v1/activities/count', headers: who.auth, query });
const post = (url: string, body: unknown, who = admin) => h.request({ method: 'POST', url, headers: who.auth, payload: body as object });

async function create(body: Record<string, unknown>, who = admin) {
  const res = await post('/v1/activities', body, who);
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

// a real user, so include=owner has a users row to embed
const me = (await post('/v1/users', { email: `me-${randomUUID().slice(0, 8)}@example.com`, password: 'a long enough password 1', name: 'Task Owner', role: 'sales' })).json();
const other = randomUUID();
const contact = (await post('/v1/contacts', { firstName: 'Listed', email: `listed-${randomUUID().slice(0, 8)}@example.com` })).json();
const company = (await post('/v1/companies', { name: 'Listed Co' })).json();

// subjects are unique to this file so every assertion reads only its own rows
const s = (name: string) => `lst-${name}`;
const made: Record<string, { id: string }> = {};
for (const [name, body] of Object.entries({
  open1: { type: 'task', ownerId: me.id, dueAt: '2030-01-03T00:00:00.000Z', contactId: contact.id },
  open2: { type: 'task', ownerId: me.id, dueAt: '2030-01-01T00:00:00.000Z', companyId: company.id },
  openNoDue: { type: 'task', ownerId: me.id },
  done: { type: 'task', ownerId: me.id, dueAt: '2030-01-02T00:00:00.000Z', completedAt: '2029-12-31T00:00:00.000Z' },
  othersTask: { type: 'task', ownerId: other, dueAt: '2030-01-01T00:00:00.000Z' },
  myCall: { type: 'call', ownerId: me.id, occurredAt: '2024-06-01T00:00:00.000Z', contactId: contact.id, companyId: company.id },
  oldNote: { type: 'note', ownerId: null, occurredAt: '2020-01-01T00:00:00.000Z', contactId: contact.id },
})) made[name] = await create({ ...body, subject: s(name) });
const subjects = (res: { json(): { data: { subject: string }[] } }) => res.json().data.map((a) => a.subject.slice(4));
const mine = { 'filter[subject][startsWith]': 'lst-' };

t.test('"my open tasks": type=task, ownerId=me, completedAt isNull, soonest due first', async (t) => {
  const q = { ...mine, 'filter[type][eq]': 'task', 'filter[ownerId][eq]': me.id, 'filter[completedAt][isNull]': 'true' };
  t.same(subjects(await list({ ...q, sort: 'dueAt' })), ['open2', 'open1', 'openNoDue'], 'nulls last ascending');
  t.equal((await count(q)).json().count, 3);
  const done = { ...q, 'filter[completedAt][isNull]': 'false' };
  t.same(subjects(await list(done)), ['done']);
});

t.test('filters on type, contactId, companyId, ownerId and dueAt', async (t) => {
  t.same(subjects(await list({ ...mine, 'filter[contactId][eq]': contact.id, sort: 'occurredAt' })), ['oldNote', 'myCall', 'open1']);
  t.same(subjects(await list({ ...mine, 'filter[companyId][eq]': company.id, sort: 'occurredAt' })), ['myCall', 'open2']);
  t.same(subjects(await list({ ...mine, 'filter[type][in]': 'call,note', sort: '-occurredAt' })), ['myCall', 'oldNote']);
  t.same(subjects(await list({ ...mine, 'filter[ownerId][isNull]': 'true' })), ['oldNote']);
  t.same(subjects(await list({ ...mine, 'filter[dueAt][lt]': '2030-01-02T00:00:00Z', sort: 'dueAt,createdAt' })), ['open2', 'othersTask']);
  t.equal((await count({ ...mine, 'filter[type][eq]': 'task' })).json().count, 5);

  const bad = await list({ 'filter[type][eq]': 'fax', 'filter[body][eq]': 'x' });
  t.equal(bad.statusCode, 400);
  t.same(bad.json().errors.map((e: { path: string }) => e.path).sort(), ['filter.body', 'filter.type.eq']);
  t.equal((await list({ sort: 'subject' })).statusCode, 400, 'only documented sort fields');
  t.equal((await list({ q: ' ' })).statusCode, 400, 'an empty search is refused (activities-search.test.ts covers q)');
});

t.test('default sort is newest occurredAt first, and keyset pages walk every row once', async (t) => {
  const all = subjects(await list(mine));
  t.equal(all.at(-1), 'oldNote');
  t.equal(all.at(-2), 'myCall');
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = await list({ ...mine, sort: '-dueAt', limit: '2', ...(cursor ? { cursor } : {}) });
    seen.push(...subjects(page));
    cursor = page.json().nextCursor ?? undefined;
    if (!cursor) break;
  }
  t.equal(seen.length, 7);
  t.same(new Set(seen).size, 7, 'no row twice');
  t.same(new Set(seen.slice(0, 3)), new Set(['openNoDue', 'myCall', 'oldNote']), 'descending: the undated first');
  t.same(seen.slice(3, 5), ['open1', 'done'], 'then the latest due');
  t.same(new Set(seen.slice(5)), new Set(['open2', 'othersTask']), 'the two due on the same day last');
});

t.test('include=contact,company,owner embeds each relation; fields trims', async (t) => {
  const res = await list({ ...mine, include: 'contact,company,owner', 'filter[id][in]': `${made.myCall!.id},${made.oldNote!.id}`, sort: 'occurredAt' });
  t.equal(res.statusCode, 200);
  const [note, call] = res.json().data;
  t.match(call, {
    subject: s('myCall'),
    contact: { id: contact.id, firstName: 'Listed' },
    company: { id: company.id, name: 'Listed Co' },
    owner: { id: me.id, name: 'Task Owner', email: me.email },
  });
  t.match(note, { contact: { id: contact.id }, company: null, owner: null }, 'no link: null, not absent');

  const one = await h.request({ method: 'GET', url: `/v1/activities/${made.open2!.id}`, headers: admin.auth, query: { include: 'company', fields: 'subject' } });
  t.same(one.json(), { id: made.open2!.id, subject: s('open2'), company: one.json().company });
  t.equal(one.json().company.id, company.id);
  const plain = (await list({ ...mine, 'filter[id][eq]': made.myCall!.id })).json().data[0];
  t.notOk('contact' in plain, 'without include no relation is embedded');
  t.equal((await list({ include: 'deal' })).statusCode, 400);
});

t.test('includeDeleted is for admin and manager', async (t) => {
  const gone = await create({ type: 'note', subject: s('gone') });
  await h.request({ method: 'DELETE', url: `/v1/activities/${gone.id}`, headers: admin.auth });
  t.notOk(subjects(await list(mine)).includes('gone'));
  t.ok(subjects(await list({ ...mine, includeDeleted: 'true' })).includes('gone'));
  t.equal((await list({ includeDeleted: 'true' }, h.user('sales'))).statusCode, 403);
});
