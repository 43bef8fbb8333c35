import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { activitySearch } from '../../src/modules/customer/activity.repository.js';
import { normaliseSearchText } from '../../src/modules/customer/search.js';

// `q` on activities (API.md §2): subject and body, Arabic and Latin folding as for contacts, ranked,
// served by the trigram index on search_text; REST and GraphQL; the 0011 backfill mirrors the service.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;

const list = (query: Record<string, string>, who = admin) => h.request({ method: 'GET', url: '/v1/activities', headers: who.auth, query });
const count = (query: Record<string, string>, who = admin) => h.request({ method: 'GET', url: '/v1/activities/count', headers: who.auth, query });
async function create(body: Record<string, unknown>, who = admin) {
  const res = await h.request({ method: 'POST', url: '/v1/activities', headers: who.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json() as { id: string; subject: string; version: number };
}
const subjects = (res: { json(): { data: { subject: string }[] } }) => res.json().data.map((a) => a.subject);

const sales = h.user('sales', { teamIds: [randomUUID()] });
const arabic = await create({ type: 'call', subject: 'مُكَالَمَةٌ مَعَ أَحْمَد', body: 'متابعة العرض' });
const latin = await create({ type: 'meeting', subject: 'Réunion avec José Müller', body: 'Budget für Ärzte' });
const longer = await create({ type: 'note', subject: 'Notes for Jose Mullerson', body: null });
const inBody = await create({ type: 'email', subject: 'Quarterly follow-up', body: 'We discussed the Q3 pricing and the renewal.' });
const theirs = await create({ type: 'note', subject: 'Pricing for the sales rep', ownerId: sales.id, teamId: sales.teamIds[0] });

t.test('Arabic subjects match with and without diacritics and letter variants', async (t) => {
  for (const q of ['مكالمه مع احمد', 'مُكَالَمَةٌ', 'أحمد', 'إحمد', 'احمد مكالمه', 'ـأحـمـد']) {
    const res = await list({ q });
    t.equal(res.statusCode, 200, q);
    t.same(subjects(res), [arabic.subject], q);
  }
  t.same(subjects(await list({ q: 'العرض' })), [arabic.subject], 'the body is searched too');
  t.same((await count({ q: 'احمد' })).json(), { count: 1 });
});

t.test('Latin subjects match with accents and case folded; best match first', async (t) => {
  for (const q of ['jose muller', 'JOSÉ MÜLLER', 'muller jose', 'reunion', 'arzte']) {
    t.ok(subjects(await list({ q })).includes(latin.subject), q);
  }
  // the longer name is newer, so without ranking it would come first (ties go newest first)
  t.same(subjects(await list({ q: 'jose muller' })), [latin.subject, longer.subject], 'the exact name ranks above a partial one');
  t.same(subjects(await list({ q: 'jose muller', sort: '-occurredAt' })), [longer.subject, latin.subject], 'an explicit sort wins over relevance');
  t.same((await count({ q: 'jose muller' })).json(), { count: 2 });
  const first = await list({ q: 'jose muller', limit: '1' });
  const second = await list({ q: 'jose muller', limit: '1', cursor: first.json().nextCursor });
  t.same([...subjects(first), ...subjects(second)], [latin.subject, longer.subject], 'relevance pages keyset-exact');
  t.equal(second.json().nextCursor, null);
});

t.test('body text, filters with q, writes keep search_text current', async (t) => {
  t.same(subjects(await list({ q: 'pricing' })).sort(), [inBody.subject, theirs.subject].sort());
  t.same(subjects(await list({ q: 'pricing', 'filter[type][eq]': 'email' })), [inBody.subject]);
  t.same((await count({ q: 'pricing', 'filter[type][eq]': 'email' })).json(), { count: 1 });
  // every role reads all customers' activities (permissions.ts), so search spans owners
  t.same(subjects(await list({ q: 'pricing' }, h.user('viewer'))).sort(), [inBody.subject, theirs.subject].sort(), 'a viewer searches too');

  const patched = await h.request({ method: 'PATCH', url: `/v1/activities/${inBody.id}`, headers: admin.auth, payload: { body: 'Only the renewal now' } });
  t.equal(patched.statusCode, 200);
  t.same(subjects(await list({ q: 'pricing' })), [theirs.subject], 'the old body no longer matches');
  t.same(subjects(await list({ q: 'renewal' })), [inBody.subject], 'the new one does');
  await h.request({ method: 'DELETE', url: `/v1/activities/${inBody.id}`, headers: admin.auth });
  t.same(subjects(await list({ q: 'renewal' })), [], 'deleted activities are not found');
  t.same(subjects(await list({ q: 'renewal', includeDeleted: 'true' })), [inBody.subject]);
  t.same(subjects(await list({ q: 'ًٌ' })), [], 'a query of diacritics only matches nothing');
});

t.test('validation: empty or long q, relevance without q, search_text is not writable', async (t) => {
  for (const query of [{ q: '' }, { q: 'x'.repeat(201) }, { sort: 'relevance' }, { q: 'a', sort: 'subject' }] as Record<string, string>[]) {
    const res = await list(query);
    t.equal(res.statusCode, 400, JSON.stringify(query));
    t.equal(res.json().code, 'validation_failed');
  }
  t.equal((await count({ q: '' })).statusCode, 400);
  const res = await h.request({ method: 'POST', url: '/v1/activities', headers: admin.auth, payload: { type: 'note', subject: 'x', searchText: 'y' } });
  t.equal(res.statusCode, 400);
  t.match(res.json().errors, [{ path: 'searchText' }]);
});

t.test('GraphQL activities(q:) and activitiesCount(q:)', async (t) => {
  const Q = `query($q: String, $sort: [ActivitySort!], $first: Int, $after: String) {
    activities(q: $q, sort: $sort, first: $first, after: $after) { edges { node { subject } } pageInfo { hasNextPage endCursor } }
    activitiesCount(q: $q) }`;
  const names = (body: { data: Record<string, any> | null }) => body.data?.activities.edges.map((e: { node: { subject: string } }) => e.node.subject);
  const ar = await h.gql(admin, Q, { q: 'مكالمة مع احمد' });
  t.same(names(ar.body), [arabic.subject]);
  t.equal(ar.body.data?.activitiesCount, 1);
  const la = await h.gql(admin, Q, { q: 'Jose Muller', first: 1 });
  t.same(names(la.body), [latin.subject]);
  t.equal(la.body.data?.activitiesCount, 2);
  const next = await h.gql(admin, Q, { q: 'Jose Muller', first: 1, after: la.body.data?.activities.pageInfo.endCursor });
  t.same(names(next.body), [longer.subject]);
  const byRelevance = await h.gql(admin, Q, { q: 'jose muller', sort: [{ field: 'relevance', direction: 'ASC' }] });
  t.same(names(byRelevance.body), [longer.subject, latin.subject]);
  const bad = await h.gql(admin, Q, { sort: [{ field: 'relevance' }] });
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.match(bad.body.errors?.[0]?.extensions.errors, [{ path: 'sort' }]);
  const filtered = await h.gql(sales, `query { activities(q: "pricing", filter: { ownerId: { eq: "${sales.id}" } }) { edges { node { subject } } } }`);
  t.same(names(filtered.body), [theirs.subject], 'q and filters AND together');
});

t.test('migration 0011 backfills search_text exactly as the service writes it, and repairs 0006', async (t) => {
  const file = readFileSync(new URL('../../migrations/0011_activities_search.sql', import.meta.url), 'utf8');
  const statement = (table: string) => file.split('--> statement-breakpoint').map((x) => x.trim()).find((x) => x.includes(`UPDATE "${table}"`));
  const texts = [
    'مؤسسة ئيس مُصْطَفَى', 'Søren Weiß Æsir Łódź', 'Nguyễn Thị Ánh', 'Ωμέγα Ἀθῆναι', 'Ｆｕｌｌ\u00a0width ﬁle', 'ﻻ إله ﷲ', 'Crème\tbrûlée\n  naïve',
  ];
  const made = [arabic.id, latin.id];
  for (const subject of texts) made.push((await create({ type: 'note', subject, body: subject.toUpperCase() })).id);
  const ids = sql.join(made.map((i) => sql`${i}::uuid`), sql`, `);
  const read = async () => (await queryRows<{ id: string; search_text: string }>(db, sql`SELECT id, search_text FROM activities WHERE id IN (${ids}) ORDER BY id`)).rows;
  const before = await read();
  t.equal(before.find((r) => r.id === arabic.id)?.search_text, normaliseSearchText('مُكَالَمَةٌ مَعَ أَحْمَد متابعة العرض'), 'the service wrote it');
  await db.execute(sql`UPDATE activities SET search_text = '' WHERE id IN (${ids})`);
  await db.execute(sql.raw(statement('activities')!));
  t.same(await read(), before, 'SQL and JS normalisation agree');

  // the same migration repairs companies that 0006 backfilled its own way
  const cos: { id: string; name: string }[] = [];
  for (const name of ['مؤسسة مصطفى', 'Søren Weiß', 'Plain Ascii']) {
    cos.push((await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name } })).json());
  }
  const coIds = sql.join(cos.map((c) => sql`${c.id}::uuid`), sql`, `);
  const found = async (q: string) => (await h.request({ method: 'GET', url: '/v1/companies', headers: admin.auth, query: { q } })).json().data.length;
  t.equal(await found('مؤسسه مصطفي'), 1);
  const stored = async () => (await queryRows<{ id: string; search_text: string }>(db, sql`SELECT id, search_text FROM companies WHERE id IN (${coIds}) ORDER BY id`)).rows;
  const right = await stored();
  await db.execute(sql`UPDATE companies SET search_text = 'مؤسسي مصطفه' WHERE id = ${cos[0]!.id}::uuid`);
  await db.execute(sql`UPDATE companies SET search_text = 'soren weiss' WHERE id = ${cos[1]!.id}::uuid`);
  t.equal(await found('مؤسسه مصطفي'), 0, 'as 0006 left it');
  t.equal(await found('Søren'), 0);
  await db.execute(sql.raw(statement('companies')!));
  t.same(await stored(), right, 'recomputed as the service writes it');
  t.equal(await found('مؤسسه مصطفي'), 1, 'found again');
  t.equal(await found('Søren'), 1);
});

t.test('EXPLAIN: q is served by the trigram index on search_text', async (t) => {
  await db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    for (const q of ['pricing', 'jose muller']) {
      const plan = await queryRows<Record<string, string>>(tx, sql`EXPLAIN SELECT id FROM activities WHERE ${activitySearch(q)}`);
      const text = plan.rows.map((r) => Object.values(r)[0]).join('\n');
      t.match(text, /activities_search_trgm_idx/, text);
    }
  });
});
