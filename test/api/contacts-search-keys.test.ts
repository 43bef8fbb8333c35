import { randomUUID } from 'node:crypto';
import t from 'tap';
import { and, eq, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { contacts } from '../../src/modules/customer/contact.table.js';
import { normaliseSearchText, searchCondition, searchRank } from '../../src/modules/customer/search.js';
import { contactSearchCondition } from '../../src/modules/customer/contact-search.js';

// contact_search_keys, the distinct word keys `q` of several words finds its candidates through
// (contact-search.ts, migration 0023): in step with the contacts on every write path, emptied of an
// erased person's words, and the candidates never drop a match of the exact condition.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const u = randomUUID().slice(0, 8);
const rows = async <T = Record<string, unknown>>(q: ReturnType<typeof sql>) => (await queryRows<T>(db, q)).rows;

async function send(method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown>) {
  const res = await h.request({ method, url, headers: admin.auth, payload });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Keys of live or deleted contacts missing from contact_search_keys: none, whatever wrote them. */
const missingWords = () => rows<{ k: string }>(sql`SELECT DISTINCT k FROM contacts c, unnest(contact_search_keys_of(c.search_text)) k
  WHERE NOT EXISTS (SELECT 1 FROM contact_search_keys v WHERE v.key = k)`);
/** Both keys of a word (its first 7 and last 5 characters) are there. */
const inVocabulary = async (word: string) =>
  (await rows(sql`SELECT 1 FROM contact_search_keys WHERE key IN (${`>${[...word].slice(0, 7).join('')}`}, ${`<${[...word].slice(-5).join('')}`})`)).length === 2;

t.test('every write path keeps contact_search_keys holding every key of every contact', async (t) => {
  const rest = await send('POST', '/v1/contacts', { firstName: `Restname${u}`, lastName: 'الشهري', email: `rest.${u}@example.com` });
  const gql = await h.gql(admin, 'mutation($input: ContactCreateInput!) { createContact(input: $input) { id } }',
    { input: { firstName: `Gqlname${u}`, phone: '+966501230000' } });
  t.ok(gql.body.data?.createContact?.id, 'GraphQL create');
  await send('POST', '/v1/contacts/batch', { operation: 'create', records: [{ firstName: `Batchone${u}` }, { firstName: `Batchtwo${u}`, lastName: 'Müller' }] });
  await send('POST', '/v1/contacts/batch', { operation: 'upsert', idProperty: 'email', records: [{ email: `rest.${u}@example.com`, lastName: `Upserted${u}` }] });
  await send('PATCH', `/v1/contacts/${rest.id}`, { additionalEmails: [`second.${u}@example.org`] });
  const dup = await send('POST', '/v1/contacts', { firstName: `Restname${u}`, lastName: `Mergedaway${u}`, email: `dup.${u}@example.com` });
  await send('POST', '/v1/contacts/merge', { primaryId: rest.id, duplicateIds: [dup.id] });
  t.same(await missingWords(), [], 'no word of any contact is missing');
  for (const w of [`restname${u}`, `gqlname${u}`, `batchone${u}`, `batchtwo${u}`, 'muller', `upserted${u}`, `second.${u}@example.org`, `dup.${u}@example.com`, 'الشهري']) {
    t.ok(await inVocabulary(w), `${w} is there`);
  }
});

t.test('an erasure removes the words only the person had, and words an earlier update left unused', async (t) => {
  const shared = `Sharedname${u}`;
  const person = await send('POST', '/v1/contacts', { firstName: shared, lastName: `Ownsurname${u}`, email: `own.${u}@example.com` });
  const other = await send('POST', '/v1/contacts', { firstName: shared, email: `other.${u}@example.com` });
  await send('PATCH', `/v1/contacts/${other.id}`, { email: `renamed.${u}@example.com` });
  t.ok(await inVocabulary(`other.${u}@example.com`), 'an update leaves the old email among the keys for now');
  const res = await h.request({ method: 'POST', url: `/v1/contacts/${person.id}/erase`, headers: admin.auth });
  t.equal(res.statusCode, 200, res.body);
  t.notOk(await inVocabulary(`ownsurname${u}`), "the person's own surname is gone");
  t.notOk(await inVocabulary(`own.${u}@example.com`), 'so is their email');
  t.ok(await inVocabulary(`sharedname${u}`), 'a first name another contact has stays');
  t.notOk(await inVocabulary(`other.${u}@example.com`), "the other contact's former email, used by nobody, went with the erasure");
  t.ok(await inVocabulary(`renamed.${u}@example.com`), 'its current one stays');
  t.same(await rows(sql`SELECT key FROM contact_search_keys_unlinked`), [], 'nothing is left noted');
  t.same(await missingWords(), [], 'and no contact lost a word');
});

t.test('the key candidates never drop a match of the exact condition', async (t) => {
  const tag = `cand-${u}`;
  const people: Record<string, unknown>[] = [
    { firstName: 'José', lastName: 'Müller', email: `jm.${u}@correo.example` },
    { firstName: 'Jose', lastName: 'Mullerson' },
    { firstName: 'Xjose', lastName: 'Mullerx' },
    { firstName: 'Ana', lastName: 'Jose Muller' },
    { firstName: 'Muller', lastName: 'Jose' },
    { firstName: 'محمد', lastName: 'العتيبي' },
    { firstName: 'ابومحمد', lastName: 'العتيبيه' },
    { firstName: 'عبدالله', lastName: 'محمد العتيبي' },
    { firstName: '50%', lastName: 'off_sale' },
    { firstName: 'a\\b', lastName: 'c%d' },
    { firstName: 'Abab', lastName: 'Abab Ab' },
  ];
  await send('POST', '/v1/contacts/batch', { operation: 'create', records: people.map((p) => ({ ...p, tags: [tag] })) });
  const queries = [
    'jose muller', 'muller jose', 'ose muller', 'ose uller', 'jose m', 'jose mullerso', 'se mul', 'ana jose muller', 'jose jose',
    'محمد العتيبي', 'العتيبي محمد', 'مد العتيبي', 'ومحمد العتيب', 'محمد العتيبيه', 'عبدالله محمد العتيبي', 'الله محمد العتي',
    '50% off_', '50_ off', 'a\\b c%', 'a\\b c_', 'abab ab', 'ab abab', 'bab ab', 'abab abab ab', 'jm correo', 'jose jm.',
  ];
  const ids = async (cond: ReturnType<typeof sql>) =>
    (await db.select({ id: contacts.id }).from(contacts).where(and(sql`${contacts.tags} @> ARRAY[${tag}]::text[]`, cond))).map((r) => r.id).sort();
  let matched = 0;
  for (const q of queries) {
    const exact = await ids(searchCondition(contacts.searchText, q));
    matched += exact.length;
    t.same(await ids(contactSearchCondition(contacts.searchText, q)), exact, q);
  }
  t.ok(matched > queries.length, 'the queries do match contacts (the comparison is not of empty sets)');
  // searchRank skips word_similarity where a plain query stands as whole words: the same value for every row
  let whole = 0;
  for (const q of [...queries, 'muller', 'abab', 'ab', 'ab ab', 'abab abab', 'jose', 'محمد', 'jm']) {
    const ranks = await db.select({ id: contacts.id, rank: sql<string>`${searchRank(contacts.searchText, q)}`,
      plain: sql<string>`round(word_similarity(${normaliseSearchText(q)}, ${contacts.searchText})::numeric, 4)` })
      .from(contacts).where(sql`${contacts.tags} @> ARRAY[${tag}]::text[]`);
    for (const r of ranks) if (r.rank !== r.plain) t.fail(`rank of ${q} for ${r.id}: ${r.rank} ≠ ${r.plain}`);
    whole += ranks.filter((r) => r.plain === '1.0000').length;
  }
  t.ok(whole > 10, 'the shortcut is taken (rows ranking 1 are compared)');
  const [one] = await db.select({ id: contacts.id }).from(contacts).where(eq(contacts.firstName, 'Xjose'));
  t.ok(one, 'the batch wrote the candidates');
});
