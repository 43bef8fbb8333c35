import t from 'tap';
import { MAX_LIMIT, compileList, compileSort, cursorOf, toPage } from '../../src/platform/http/collection.js';
import { decodeCursor, encodeCursor } from '../../src/platform/http/cursor.js';
import { U1, U2, refused, render, spec } from '../helpers/collection-fixture.js';

// Sorts, list pages and cursors of API.md §2 without a database: what compiles, what is refused, and
// the SQL that comes out. Filters: collection.test.ts.

t.test('compileSort: default, directions, and the id tie-breaker appended', async (t) => {
  const simple = (s: string | undefined) => compileSort(spec, s).map((k) => `${k.desc ? '-' : ''}${k.name}`);
  t.same(simple(undefined), ['-seenAt', '-id'], 'the default sort, id follows its direction');
  t.same(simple('  '), ['-seenAt', '-id'], 'blank is the default');
  t.same(simple('name'), ['name', 'id']);
  t.same(simple('-size, name'), ['-size', 'name', 'id'], 'id takes the direction of the last key');
  t.same(simple('name,-id'), ['name', '-id'], 'an explicit id is not repeated');
  t.same(simple('custom.tier'), ['custom.tier', 'id'], 'dynamic fields sort too');
  const keys = compileSort(spec, '-size,name');
  t.equal(keys.at(-1)?.field, spec.id, 'the appended key reads the spec id');
});

t.test('compileSort: unknown, non-sortable and duplicate fields are all reported', async (t) => {
  const errors = refused(t, () => compileSort(spec, 'nope,active,name,-name,'));
  t.same(errors, [
    { path: 'sort', message: '"nope" is not a sortable field' },
    { path: 'sort', message: '"active" is not a sortable field' },
    { path: 'sort', message: '"name" is listed twice' },
    { path: 'sort', message: '"" is not a sortable field' },
  ]);
  t.same(refused(t, () => compileSort(spec, 'constructor')), [{ path: 'sort', message: '"constructor" is not a sortable field' }]);
});

t.test('compileList: ORDER BY follows the keys; limits are checked', async (t) => {
  const list = compileList(spec, { sort: 'nickname,-size', limit: 10 });
  // a nullable key sorts as (IS NULL, coalesce): Postgres's NULL placement, with no NULL left to compare
  t.same(list.orderBy.map((o) => render(o).sql), [
    '("things"."nickname" IS NULL) ASC', 'coalesce("things"."nickname", \'\') ASC',
    '("things"."size" IS NULL) DESC', 'coalesce("things"."size", 0) DESC',
    '"things"."id" DESC',
  ]);
  t.equal(list.limit, 10);
  t.equal(list.fetch, 11, 'one extra row tells whether another page follows');
  t.equal(list.where, undefined);
  t.equal(compileList(spec, {}).limit, 50);
  t.equal(compileList(spec, { limit: MAX_LIMIT }).limit, MAX_LIMIT);
  for (const limit of [0, -1, MAX_LIMIT + 1, 2.5]) {
    t.same(refused(t, () => compileList(spec, { limit })).map((e) => e.path), ['limit'], `limit ${limit}`);
  }
});

t.test('cursor: a row comparison when every key is non-null and in one direction', async (t) => {
  const keys = compileSort(spec, '-name');
  const cursor = cursorOf(keys, { name: 'Acme', id: U1 });
  const q = render(compileList(spec, { sort: '-name', cursor }).where);
  t.equal(q.sql, '("things"."name", "things"."id") < ($1::text, $2::uuid)');
  t.same(q.params, ['Acme', U1]);
});

t.test('cursor: a nullable key in one direction is still one row comparison, over (IS NULL, coalesce)', async (t) => {
  // the same expressions as the ORDER BY, so an index on them starts the scan at the cursor
  const asc = render(compileList(spec, { sort: 'nickname', cursor: cursorOf(compileSort(spec, 'nickname'), { nickname: 'm', id: U1 }) }).where);
  t.equal(asc.sql, '(("things"."nickname" IS NULL), coalesce("things"."nickname", \'\'), "things"."id") > (false, $1::text, $2::uuid)');
  t.same(asc.params, ['m', U1]);
  // after a null in ASC order (nulls last) only more nulls remain: (true, '', id) leaves exactly those
  const ascNull = render(compileList(spec, { sort: 'nickname', cursor: cursorOf(compileSort(spec, 'nickname'), { nickname: null, id: U1 }) }).where);
  t.equal(ascNull.sql, '(("things"."nickname" IS NULL), coalesce("things"."nickname", \'\'), "things"."id") > (true, \'\'::text, $1::uuid)');
  // DESC puts nulls first: after a null come the other nulls by id, then every non-null value
  const descNull = render(compileList(spec, { sort: '-size', cursor: cursorOf(compileSort(spec, '-size'), { size: null, id: U1 }) }).where);
  t.equal(descNull.sql, '(("things"."size" IS NULL), coalesce("things"."size", 0), "things"."id") < (true, 0::bigint, $1::uuid)');
});

t.test('cursor: mixed directions expand to branches that place nulls as Postgres does', async (t) => {
  const keys = compileSort(spec, 'nickname,-size');
  const q = render(compileList(spec, { sort: 'nickname,-size', cursor: cursorOf(keys, { nickname: 'm', size: null, id: U1 }) }).where);
  t.equal(
    q.sql,
    '(("things"."nickname" > $1::text OR "things"."nickname" IS NULL) OR ("things"."nickname" = $2::text and "things"."size" IS NOT NULL) OR ("things"."nickname" = $3::text and "things"."size" IS NULL and "things"."id" < $4::uuid))',
  );
});

t.test('cursor: values round-trip; dates as ISO strings', async (t) => {
  const keys = compileSort(spec, '-seenAt');
  const at = new Date('2026-03-04T05:06:07.089Z');
  const cursor = cursorOf(keys, { seenAt: at, id: U2 });
  t.same(decodeCursor(cursor), { s: '-seenAt,-id', v: ['2026-03-04T05:06:07.089Z', U2] });
  t.same(render(compileList(spec, { cursor }).where).params, ['2026-03-04T05:06:07.089Z', U2], 'the default sort accepts it');
});

t.test('cursor: one from another sort or listing is refused', async (t) => {
  const byName = cursorOf(compileSort(spec, 'name'), { name: 'a', id: U1 });
  for (const sort of ['-name', 'nickname', 'name,size', undefined]) {
    const errors = refused(t, () => compileList(spec, { sort, cursor: byName }));
    t.same(errors, [{ path: 'cursor', message: 'is not a cursor of this listing and sort' }], `sort ${sort}`);
  }
  // right signature, wrong number of values
  const short = encodeCursor({ s: 'name,id', v: ['a'] });
  t.same(refused(t, () => compileList(spec, { sort: 'name', cursor: short })).map((e) => e.message), ['is not a cursor of this listing and sort']);
  // the same cursor still works with its own sort
  t.ok(compileList(spec, { sort: 'name', cursor: byName }).where);
});

t.test('cursor: a damaged cursor is refused, never sent to SQL', async (t) => {
  const good = cursorOf(compileSort(spec, 'size'), { size: 5, id: U1 });
  const notOurs = [
    'not base64 !',
    Buffer.from('not json').toString('base64url'),
    Buffer.from(JSON.stringify({ s: 'size,id' })).toString('base64url'),
    Buffer.from(JSON.stringify({ s: 'size,id', v: [5, U1] })).toString('base64url'), // numbers are not ours
    good.slice(0, -3),
    'A'.repeat(3000),
  ];
  for (const cursor of notOurs) {
    t.same(refused(t, () => compileList(spec, { sort: 'size', cursor })).map((e) => e.path), ['cursor'], cursor.slice(0, 30));
  }
  // well-formed, right sort, but values that do not fit the fields
  const damaged = [
    encodeCursor({ s: 'size,id', v: ['five', U1] }),
    encodeCursor({ s: 'size,id', v: ['5', "x' OR 1=1 --"] }),
    // id can never be null: such a cursor would silently end the listing
    encodeCursor({ s: 'size,id', v: ['5', null] }),
  ];
  for (const cursor of damaged) {
    t.same(refused(t, () => compileList(spec, { sort: 'size', cursor })), [{ path: 'cursor', message: 'is damaged' }]);
  }
  // a null in a nullable key is a real position (rows without a size), not damage
  t.ok(compileList(spec, { sort: 'size', cursor: encodeCursor({ s: 'size,id', v: [null, U1] }) }).where);
});

t.test('toPage: the next cursor from the last row; every row\'s cursor only when asked for, then kept', async (t) => {
  const list = compileList(spec, { sort: 'nickname', limit: 2 });
  const rows = [{ nickname: 'a', id: U1 }, { nickname: 'b', id: U1 }, { nickname: 'c', id: U1 }];
  let read = 0;
  const sortRow = (r: (typeof rows)[number]) => { read++; return { ...r }; };
  const page = toPage(list, rows, sortRow, (r) => r.nickname);
  t.same(page.items, ['a', 'b'], 'the extra row is cut');
  t.equal(page.nextCursor, cursorOf(list.keys, rows[1]!), 'the next page starts after the last item');
  t.equal(read, 1, 'a REST page reads one row\'s sort values');
  t.same(page.cursors(), [cursorOf(list.keys, rows[0]!), cursorOf(list.keys, rows[1]!)]);
  t.equal(page.cursors(), page.cursors(), 'made once');
  t.equal(read, 3);
  t.equal(toPage(list, rows.slice(0, 2), sortRow, (r) => r).nextCursor, null, 'no more rows: no next cursor');
});
