import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { type SQL, eq, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { contacts } from '../../src/modules/customer/contact.table.js';
import { companies } from '../../src/modules/customer/company.table.js';
import { companyCandidatesSql, contactNameKey, companyNameKey, useNameSimilarity } from '../../src/modules/customer/duplicate.repository.js';
import { contactPairsSql } from '../../src/modules/customer/duplicate-batch.repository.js';
import { migrationsFolder } from '../../src/platform/db/migrations.js';
import { queryRows } from '../../src/platform/db/execute.js';

// Duplicate detection (API.md §5): pairs by email, phone, normalised name (Arabic and Latin), company
// as an extra reason; kept current by every write; keyset-paged by score; index-only lookups. REST and GraphQL.

const h = await startTestApp({ env: { DEFAULT_PHONE_REGION: 'SA' } });
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const viewer = h.user('viewer');

type Pair = { contactIds: string[]; score: number; reasons: string[] };
type CompanyPair = { companyIds: string[]; score: number; reasons: string[] };
const uniq = () => randomUUID().slice(0, 8);

async function created(url: string, body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`POST ${url} failed: ${res.body}`);
  return res.json();
}
const send = (method: 'PATCH' | 'DELETE' | 'POST', url: string, payload?: object) =>
  h.request({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });

/** every pair of the listing (all pages of 200), for assertions on the rows a test created */
async function allPairs(kind: 'contacts' | 'companies', query: Record<string, string> = {}) {
  const out: (Pair & CompanyPair)[] = [];
  let cursor: string | null = null;
  do {
    const res = await h.request({ method: 'GET', url: `/v1/${kind}/duplicates`, headers: admin.auth, query: { limit: '200', ...query, ...(cursor ? { cursor } : {}) } });
    if (res.statusCode !== 200) throw new Error(res.body);
    out.push(...res.json().data);
    cursor = res.json().nextCursor;
  } while (cursor);
  return out;
}
const pairOf = <P extends { contactIds?: string[]; companyIds?: string[] }>(pairs: P[], a: string, b: string) =>
  pairs.find((p) => {
    const ids = p.contactIds ?? p.companyIds ?? [];
    return ids.includes(a) && ids.includes(b);
  });

t.test('acceptance: محمد / مُحَمَّد and 0550001111 / +966 55 000 1111 are one pair', async (t) => {
  const a = await created('/v1/contacts', { firstName: 'محمد', phone: '0550001111' });
  const b = await created('/v1/contacts', { firstName: 'مُحَمَّد', phone: '+966 55 000 1111' });
  t.equal(a.phone, '+966550001111', 'read in DEFAULT_PHONE_REGION SA');
  const pair = pairOf(await allPairs('contacts'), a.id, b.id) as Pair;
  t.ok(pair, 'the pair is listed');
  t.same([...pair.reasons].sort(), ['same_phone', 'similar_name']);
  t.equal(pair.score, 70, 'same_phone 40 + similar_name 30');
  t.same(pair.contactIds, [a.id, b.id].sort(), 'each pair once, ids in order');
});

t.test('emails match across primary and additional emails; same_company only adds', async (t) => {
  const u = uniq();
  const firm = await created('/v1/companies', { name: `Firm ${u}` });
  const a = await created('/v1/contacts', { firstName: 'Lena', lastName: `Ost${u}`, email: `lena.${u}@example.com`, companyId: firm.id });
  const b = await created('/v1/contacts', { firstName: 'L.', lastName: `Other${u}`, additionalEmails: [`LENA.${u}@example.com`], companyId: firm.id });
  const c = await created('/v1/contacts', { firstName: 'Zed', lastName: `Nobody${u}`, companyId: firm.id });
  const pairs = await allPairs('contacts');
  const ab = pairOf(pairs, a.id, b.id) as Pair;
  t.same(ab?.reasons, ['same_email', 'same_company'], 'additionalEmails are lower-cased and compared');
  t.equal(ab.score, 60);
  t.notOk(pairOf(pairs, a.id, c.id), 'the same company alone is no pair');
});

t.test('kept current by update, delete, restore, batch and upsert', async (t) => {
  const u = uniq();
  const a = await created('/v1/contacts', { firstName: 'José', lastName: `Müller${u}` });
  const b = await created('/v1/contacts', { firstName: 'jose', lastName: `MULLER${u}` });
  t.same(pairOf(await allPairs('contacts'), a.id, b.id)?.reasons, ['similar_name'], 'Latin accents and case fold');

  t.equal((await send('PATCH', `/v1/contacts/${b.id}`, { firstName: 'Quentin', lastName: `Zzyzx${u}` })).statusCode, 200);
  t.notOk(pairOf(await allPairs('contacts'), a.id, b.id), 'a rename ends the pair');
  t.equal((await send('PATCH', `/v1/contacts/${b.id}`, { lastName: null, firstName: null, email: `jm.${u}@example.com` })).statusCode, 200);
  t.equal((await send('PATCH', `/v1/contacts/${a.id}`, { additionalEmails: [`jm.${u}@example.com`] })).statusCode, 200);
  t.same(pairOf(await allPairs('contacts'), a.id, b.id)?.reasons, ['same_email'], 'a new shared email makes it again');

  t.equal((await send('DELETE', `/v1/contacts/${a.id}`)).statusCode, 204);
  t.notOk(pairOf(await allPairs('contacts'), a.id, b.id), 'a deleted contact has no pairs');
  const stored = await db.execute(sql`SELECT count(*)::int AS n FROM duplicate_candidates WHERE a_id = ${a.id} OR b_id = ${a.id}`);
  t.equal(Number((stored as unknown as { rows: { n: number }[] }).rows[0]?.n), 0, 'its rows are gone, not only hidden');
  t.equal((await send('POST', `/v1/contacts/${a.id}/restore`)).statusCode, 200);
  t.ok(pairOf(await allPairs('contacts'), a.id, b.id), 'restoring brings the pair back');

  const batch = await send('POST', '/v1/contacts/batch', {
    operation: 'create', records: [{ firstName: 'Batch', phone: '+966501234567', lastName: `One${u}` }, { firstName: 'Other', phone: '0501234567', lastName: `Two${u}` }],
  });
  const [x, y] = batch.json().results.map((r: { id: string }) => r.id);
  t.same(pairOf(await allPairs('contacts'), x, y)?.reasons, ['same_phone'], 'batch writes refresh too');
  const upsert = await send('POST', '/v1/contacts/batch', {
    operation: 'upsert', idProperty: 'email', records: [{ email: `up.${u}@example.com`, firstName: 'Batch', lastName: `One${u}` }],
  });
  const z = upsert.json().results[0].id;
  t.same(pairOf(await allPairs('contacts'), x, z)?.reasons, ['similar_name'], 'an upsert creating a contact finds its pairs');
});

t.test('sorted by score, keyset-paged, minScore, validation', async (t) => {
  const u = uniq();
  // a strong pair (email + phone + name) and a weak one (name only)
  await created('/v1/contacts', { firstName: 'Strong', lastName: `Pair${u}`, email: `s.${u}@example.com`, phone: '+966502220000' });
  await created('/v1/contacts', { firstName: 'Strong', lastName: `Pair${u}`, additionalEmails: [`s.${u}@example.com`], additionalPhones: ['+966502220000'] });
  const all = await allPairs('contacts');
  t.ok(all.length >= 5);
  t.ok(all.every((p, i) => i === 0 || all[i - 1]!.score >= p.score), 'highest score first');
  t.equal(all[0]?.score, 100, 'email + phone + name is capped at 100');

  const pages: Pair[] = [];
  let cursor: string | null = null;
  do {
    const res = await h.request({ method: 'GET', url: '/v1/contacts/duplicates', headers: viewer.auth, query: { limit: '2', ...(cursor ? { cursor } : {}) } });
    t.equal(res.statusCode, 200, 'every role reading customers may list them');
    pages.push(...res.json().data);
    cursor = res.json().nextCursor;
  } while (cursor);
  t.same(pages, all, 'pages of 2 walk the same pairs in the same order, none twice');

  const strong = await allPairs('contacts', { minScore: '70' });
  t.ok(strong.length > 0 && strong.every((p) => p.score >= 70), 'minScore filters');
  t.ok(strong.length < all.length);

  const bad: Record<string, string>[] = [{ limit: '0' }, { limit: '201' }, { minScore: '101' }, { minScore: 'x' }, { sort: 'score' }, { cursor: 'bogus' }];
  for (const query of bad) {
    const res = await h.request({ method: 'GET', url: '/v1/contacts/duplicates', headers: admin.auth, query });
    t.equal(res.statusCode, 400, `400 for ${JSON.stringify(query)}`);
    t.equal(res.json().code, 'validation_failed');
  }
  t.equal((await h.request({ method: 'GET', url: '/v1/contacts/duplicates' })).statusCode, 401);
});

t.test('companies: domain with or without www., similar name, phone as an extra reason', async (t) => {
  const u = uniq();
  const a = await created('/v1/companies', { name: `شركة الأمل ${u}`, domain: `amal-${u}.example`, phone: '0112345678' });
  const b = await created('/v1/companies', { name: `شركه الامل ${u}`, domain: `www.amal-${u}.example`, phone: '+966112345678' });
  const c = await created('/v1/companies', { name: `Unrelated ${u}`, phone: '+966112345678' });
  const pairs = await allPairs('companies');
  const ab = pairOf(pairs, a.id, b.id) as CompanyPair;
  t.same(ab?.reasons, ['same_domain', 'similar_name', 'same_phone']);
  t.equal(ab.score, 100);
  t.same(ab.companyIds, [a.id, b.id].sort());
  t.notOk(pairOf(pairs, a.id, c.id), 'a shared phone alone makes no company pair');
  t.equal((await send('PATCH', `/v1/companies/${b.id}`, { name: `Other name ${u}`, domain: `other-${u}.example` })).statusCode, 200);
  t.notOk(pairOf(await allPairs('companies'), a.id, b.id), 'company writes keep the pairs current');
});

t.test('the candidate lookup of one record uses indexes only (no Seq Scan)', async (t) => {
  const u = uniq();
  const c = await created('/v1/contacts', {
    firstName: 'Index', lastName: `Probe${u}`, email: `probe.${u}@example.com`, phone: '+966503330000', additionalEmails: [`p2.${u}@example.com`], additionalPhones: ['+966503330001'], companyId: null,
  });
  const firm = await created('/v1/companies', { name: `Probe Co ${u}`, domain: `probe-${u}.example` });
  const [row] = await db.select().from(contacts).where(eq(contacts.id, c.id));
  const [firmRow] = await db.select().from(companies).where(eq(companies.id, firm.id));
  // enough rows, analysed, for the planner to cost like a real table; they take part in no pair
  await db.execute(sql`INSERT INTO contacts (id, first_name, email, phone, name_key, search_text)
    SELECT gen_random_uuid(), h, h || '@fill.example', '+9665' || (10000000 + n)::text, h, h || ' ' || h || '@fill.example +9665' || (10000000 + n)::text
    FROM (SELECT n, md5(n::text) AS h FROM generate_series(1, 3000) AS n) AS f`);
  await db.execute(sql`ANALYZE contacts`);
  await db.execute(sql`ANALYZE companies`);
  const plans = await db.transaction(async (tx) => {
    // The nudge a small table needs: without sequential scans and plain full-index walks (which a
    // Merge Append may prefer for their order), only bitmap scans with an index condition remain, so
    // every arm must show the index that serves it. On 100 k contacts PostgreSQL 15 picks these unasked.
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    await tx.execute(sql`SET LOCAL enable_indexscan = off`);
    await useNameSimilarity(tx);
    const explain = async (q: SQL | undefined) =>
      (await queryRows<Record<string, string>>(tx, sql`EXPLAIN ${q}`)).rows.map((r) => Object.values(r)[0]).join('\n');
    // the statement the queue's pass runs, for this one contact
    return [await explain(contactPairsSql([row!.id])), await explain(companyCandidatesSql(firmRow!))];
  });
  const [contactPlan, companyPlan] = plans as [string, string];
  t.notMatch(contactPlan, /Seq Scan on contacts/, 'contacts: no sequential scan');
  t.match(contactPlan, /contacts_email_live_key/, 'the email btree');
  t.match(contactPlan, /contacts_phone_idx/, 'the phone btree');
  t.match(contactPlan, /contacts_additional_emails_idx/, 'the GIN index on additional emails');
  t.match(contactPlan, /contacts_additional_phones_idx/, 'the GIN index on additional phones');
  t.match(contactPlan, /contacts_name_key_trgm_idx/, 'the trigram index on name_key');
  t.notMatch(companyPlan, /Seq Scan on companies/, 'companies: no sequential scan');
  t.match(companyPlan, /companies_name_key_trgm_idx/);
});

t.test('name_key: the migration backfill normalises like the services', async (t) => {
  const names: [string | null, string | null][] = [['أَحْمَد', 'فاطمة'], ['José', 'MÜLLER'], ['ـمحمــد', null], [null, 'إسلام  آل  ٱلرشيد'], ['Ångström', 'Øre']];
  const ids: string[] = [];
  for (const [firstName, lastName] of names) ids.push((await created('/v1/contacts', { firstName, lastName })).id);
  const co = await created('/v1/companies', { name: 'مؤسسة   الهُدى  Café' });
  const keyOf = async (id: string) => (await db.select().from(contacts).where(eq(contacts.id, id)))[0]?.nameKey;
  for (const [i, id] of ids.entries()) t.equal(await keyOf(id), contactNameKey({ firstName: names[i]![0], lastName: names[i]![1] }), 'written by the service');
  t.equal(await keyOf(ids[0]!), 'احمد فاطمه');
  await db.execute(sql`UPDATE contacts SET name_key = '' WHERE id IN (${sql.join(ids.map((i) => sql`${i}::uuid`), sql`, `)})`);
  await db.execute(sql`UPDATE companies SET name_key = '' WHERE id = ${co.id}`);
  const statements = readFileSync(`${migrationsFolder}/0012_lifecycle_and_webhooks.sql`, 'utf8').split('--> statement-breakpoint')
    .filter((s) => /SET "name_key"/.test(s));
  t.equal(statements.length, 2, 'one backfill for contacts, one for companies');
  for (const s of statements) await db.execute(sql.raw(s));
  for (const [i, id] of ids.entries()) {
    const [firstName, lastName] = names[i]!;
    t.equal(await keyOf(id), contactNameKey({ firstName, lastName }), `backfill of ${firstName} ${lastName}`);
  }
  t.equal((await db.select().from(companies).where(eq(companies.id, co.id)))[0]?.nameKey, companyNameKey({ name: 'مؤسسة   الهُدى  Café' }));
});

t.test('GraphQL: contactDuplicates and companyDuplicates page like REST', async (t) => {
  const rest = await allPairs('contacts');
  const q = `query($first: Int, $after: String, $min: Int) { contactDuplicates(first: $first, after: $after, minScore: $min) {
    edges { cursor node { contactIds score reasons } } pageInfo { hasNextPage endCursor } } }`;
  const first = await h.gql(viewer, q, { first: 2 });
  t.equal(first.status, 200);
  t.same(first.body.data?.contactDuplicates.edges.map((e: { node: Pair }) => e.node), rest.slice(0, 2));
  t.equal(first.body.data?.contactDuplicates.pageInfo.hasNextPage, true);
  const next = await h.gql(viewer, q, { first: 2, after: first.body.data?.contactDuplicates.pageInfo.endCursor });
  t.same(next.body.data?.contactDuplicates.edges.map((e: { node: Pair }) => e.node), rest.slice(2, 4));
  const min = await h.gql(viewer, q, { first: 50, min: 100 });
  t.ok(min.body.data?.contactDuplicates.edges.every((e: { node: Pair }) => e.node.score === 100));

  const bad = await h.gql(admin, q, { min: 101 });
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.equal(bad.body.errors?.[0]?.extensions.errors?.[0]?.path, 'minScore');
  const badFirst = await h.gql(admin, q, { first: 0 });
  t.equal(badFirst.body.errors?.[0]?.extensions.code, 'validation_failed');

  const companiesQ = await h.gql(admin, '{ companyDuplicates(first: 50) { edges { node { companyIds score reasons } } } }');
  t.same(companiesQ.body.data?.companyDuplicates.edges.map((e: { node: CompanyPair }) => e.node), await allPairs('companies'));
});
