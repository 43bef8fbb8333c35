import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { contactSearch } from '../../src/modules/customer/contact.repository.js';

// GET /v1/contacts with the grammar of API.md §2: filters, sorts, keyset pages, count, include, fields.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const list = (query: Record<string, string>, who = admin) => h.request({ method: 'GET', url: '/v1/contacts', headers: who.auth, query });
const count = (query: Record<string, string>) => h.request({ method: 'GET', url: '/v1/contacts/count', headers: admin.auth, query });

async function create(body: Record<string, unknown>, who = admin) {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: who.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const tag = `lst-${randomUUID().slice(0, 8)}`;
const company = (await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: 'List Co', domain: 'list-co.example' } })).json();
const rows = [
  { firstName: 'Ada', lastName: 'Zeta', lifecycleStage: 'lead', emailOptIn: true, tags: [tag, 'a'], companyId: company.id },
  { firstName: 'Ben', lastName: 'Young', lifecycleStage: 'customer', emailOptIn: false, tags: [tag, 'b'] },
  { firstName: 'Cy', lastName: 'Xu', lifecycleStage: 'customer', emailOptIn: true, tags: [tag], companyId: company.id },
  { firstName: 'Di', lastName: 'Wu', lifecycleStage: 'churned', emailOptIn: false, tags: [tag, 'a'] },
  { firstName: 'Ed', lastName: 'Vo', emailOptIn: true, tags: [tag] },
];
const made: { id: string; firstName: string }[] = [];
for (const r of rows) made.push(await create(r));
const names = (res: { json(): { data: { firstName: string }[] } }) => res.json().data.map((c) => c.firstName);
const mine = { 'filter[tags][contains]': tag };

t.test('filters: lifecycleStage, companyId, emailOptIn, tags, and their combinations', async (t) => {
  t.same(names(await list({ ...mine, 'filter[lifecycleStage][eq]': 'customer', sort: 'firstName' })), ['Ben', 'Cy']);
  t.same(names(await list({ ...mine, 'filter[lifecycleStage][in]': 'lead,churned', sort: 'firstName' })), ['Ada', 'Di']);
  t.same(names(await list({ ...mine, 'filter[lifecycleStage][isNull]': 'true' })), ['Ed']);
  t.same(names(await list({ ...mine, 'filter[companyId][eq]': company.id, sort: 'firstName' })), ['Ada', 'Cy']);
  t.same(names(await list({ ...mine, 'filter[emailOptIn][eq]': 'true', 'filter[tags][in]': 'a', sort: 'firstName' })), ['Ada']);
  t.equal((await count({ ...mine, 'filter[emailOptIn][eq]': 'false' })).json().count, 2);

  const bad = await list({ ...mine, 'filter[lifecycleStage][eq]': 'prospect', 'filter[searchText][eq]': 'x' });
  t.equal(bad.statusCode, 400);
  t.same(bad.json().errors.map((e: { path: string }) => e.path).sort(), ['filter.lifecycleStage.eq', 'filter.searchText']);
});

t.test('sorts and keyset pages walk every record exactly once', async (t) => {
  t.same(names(await list({ ...mine, sort: 'lastName' })), ['Ed', 'Di', 'Cy', 'Ben', 'Ada']);
  t.same(names(await list({ ...mine, sort: '-lifecycleStage,firstName' })), ['Ed', 'Ada', 'Ben', 'Cy', 'Di'], 'nulls first when descending');
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 5; i++) {
    const page = await list({ ...mine, sort: 'lifecycleStage', limit: '2', ...(cursor ? { cursor } : {}) });
    seen.push(...names(page));
    cursor = page.json().nextCursor ?? undefined;
    if (!cursor) break;
  }
  t.same(seen, ['Di', 'Ben', 'Cy', 'Ada', 'Ed']);
  t.equal((await list({ ...mine, sort: 'searchText' })).statusCode, 400, 'only documented sort fields');
  t.equal((await list({ ...mine, sort: 'relevance' })).statusCode, 400, 'relevance exists only with q');
});

t.test('include=company,owner embeds each relation; fields keeps only what is asked', async (t) => {
  const res = await list({ ...mine, include: 'company,owner', 'filter[firstName][in]': 'Ada,Ben', sort: 'firstName' });
  t.equal(res.statusCode, 200);
  const [ada, ben] = res.json().data;
  t.match(ada, { firstName: 'Ada', company: { id: company.id, name: 'List Co', domain: 'list-co.example' }, owner: null });
  t.equal(ben.company, null, 'no company: null, not absent');
  t.equal(ada.owner, null, 'the owner id is a test user with no users row');

  const one = await h.request({ method: 'GET', url: `/v1/contacts/${made[0]!.id}`, headers: admin.auth, query: { include: 'company', fields: 'firstName' } });
  t.same(one.json(), { id: made[0]!.id, firstName: 'Ada', company: one.json().company });
  t.equal(one.json().company.id, company.id);
  t.equal((await list({ include: 'deals' })).statusCode, 400);
  t.equal((await list({ fields: 'firstName,searchText' })).statusCode, 400);
});

t.test('include=company respects nothing but the company being live', async (t) => {
  const gone = (await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: 'Gone Co' } })).json();
  const c = await create({ firstName: 'Orphan', companyId: gone.id });
  await h.request({ method: 'DELETE', url: `/v1/companies/${gone.id}`, headers: admin.auth });
  const res = await h.request({ method: 'GET', url: `/v1/contacts/${c.id}`, headers: admin.auth, query: { include: 'company' } });
  t.equal(res.json().company, null, 'a deleted company is not embedded');
  t.equal(res.json().companyId, gone.id, 'the reference itself stays');
});

t.test('includeDeleted lists deleted contacts for admin and manager only', async (t) => {
  const c = await create({ firstName: 'Hidden', tags: [tag, 'hidden'] });
  await h.request({ method: 'DELETE', url: `/v1/contacts/${c.id}`, headers: admin.auth });
  t.same(names(await list({ 'filter[tags][contains]': 'hidden' })), []);
  t.same(names(await list({ 'filter[tags][contains]': 'hidden', includeDeleted: 'true' })), ['Hidden']);
  t.equal((await list({ includeDeleted: 'true' }, h.user('marketing'))).statusCode, 403);
});

t.test('the contacts search condition of q can use the trigram index', async (t) => {
  const db = h.db.database.db;
  // enough rows of name-like text, and VACUUM so the GIN index has the statistics the planner costs it by
  await db.execute(sql`INSERT INTO contacts (id, first_name, search_text)
    SELECT gen_random_uuid(), 'Bulk', (SELECT string_agg(chr(97 + floor(random() * 26)::int), '') FROM generate_series(1, 12 + g % 2)) || ' ' || g
    FROM generate_series(1, 5000) g`);
  await db.execute(sql`VACUUM ANALYZE contacts`);
  const plan = await db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    // exactly the condition the service sends for q (search.ts), on live contacts
    const r = await tx.execute(sql`EXPLAIN SELECT id FROM contacts WHERE ${contactSearch('Qwértyu')} AND deleted_at IS NULL`);
    return ((r as unknown as { rows: { 'QUERY PLAN': string }[] }).rows).map((x) => x['QUERY PLAN']).join('\n');
  });
  t.match(plan, /Bitmap Index Scan on contacts_search_trgm_idx/);
  t.notMatch(plan, /contacts_email_live_key/, 'not the partial email index standing in for deleted_at IS NULL');
});
