import t, { type Test } from 'tap';
import type { SQL } from 'drizzle-orm';
import { PgDialect, boolean, date, integer, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import {
  type CollectionSpec, type FieldSpec, type FieldType, type FilterInput, FILTER_OPS, MAX_LIMIT,
  compileFilter, compileList, compileSort, cursorOf, toPage,
} from '../../src/platform/http/collection.js';
import { decodeCursor, encodeCursor } from '../../src/platform/http/cursor.js';
import { AppError } from '../../src/platform/errors/app-error.js';

// The collection grammar of API.md §2 without a database: what compiles, what is refused and with
// which dotted paths, and the SQL that comes out (rendered by drizzle's own Postgres dialect).

const dialect = new PgDialect();
const render = (s: SQL | undefined) => {
  if (!s) throw new Error('expected SQL, got undefined');
  return dialect.sqlToQuery(s);
};

// A table with one column of every field type, so every branch of the grammar has something to read.
const things = pgTable('things', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  nickname: text('nickname'),
  size: integer('size'),
  price: numeric('price'),
  active: boolean('active'),
  seenAt: timestamp('seen_at', { withTimezone: true }),
  birthday: date('birthday'),
  ownerId: uuid('owner_id'),
  stage: text('stage'),
  tags: text('tags').array().notNull(),
  secret: text('secret'),
});

const idField: FieldSpec = { expr: things.id, type: 'uuid', nullable: false, sortable: true };
const spec: CollectionSpec = {
  id: idField,
  defaultSort: '-seenAt',
  fields: {
    id: idField,
    name: { expr: things.name, type: 'string', nullable: false, sortable: true },
    nickname: { expr: things.nickname, type: 'string', nullable: true, sortable: true },
    size: { expr: things.size, type: 'integer', nullable: true, sortable: true },
    price: { expr: things.price, type: 'decimal', nullable: true, sortable: true },
    score: { expr: things.price, type: 'number', nullable: true, sortable: true },
    active: { expr: things.active, type: 'boolean', nullable: true },
    seenAt: { expr: things.seenAt, type: 'datetime', nullable: false, sortable: true },
    birthday: { expr: things.birthday, type: 'date', nullable: true, sortable: true },
    ownerId: { expr: things.ownerId, type: 'uuid', nullable: true },
    stage: { expr: things.stage, type: 'enum', nullable: true, values: ['open', 'won', 'lost'] },
    tags: { expr: things.tags, type: 'tags', nullable: false },
    secret: { expr: things.secret, type: 'string', nullable: true, filterable: false },
  },
  // custom.<key> fields are looked up at run time (custom-field definitions), not declared statically
  dynamicField: (name) =>
    name === 'custom.tier' ? { expr: things.nickname, type: 'string', nullable: true, sortable: true } : undefined,
};

const U1 = '0190a1b2-0000-7000-8000-000000000001';
const U2 = '0190a1b2-0000-7000-8000-000000000002';

/** Runs `fn`, expecting validation_failed; returns the field errors. */
function refused(t: Test, fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    t.type(e, AppError);
    t.equal((e as AppError).code, 'validation_failed');
    t.equal((e as AppError).status, 400);
    return (e as AppError).errors ?? [];
  }
  t.fail('expected validation_failed');
  return [];
}

t.test('compileFilter: nothing to filter compiles to no condition', async (t) => {
  t.equal(compileFilter(spec, undefined), undefined);
  t.equal(compileFilter(spec, {}), undefined);
});

t.test('compileFilter: several filters AND together, values travel as parameters', async (t) => {
  const q = render(compileFilter(spec, { name: { eq: "O'Brien" }, size: { gte: '10', lt: '20' } }));
  t.equal(q.sql, '("things"."name" = $1::text and "things"."size" >= $2::bigint and "things"."size" < $3::bigint)');
  t.same(q.params, ["O'Brien", '10', '20']);
});

t.test('compileFilter: every bad part is listed at once, each with its dotted path', async (t) => {
  const errors = refused(t, () =>
    compileFilter(spec, {
      nope: { eq: 'x' },
      size: { contains: '1', gt: 'ten' },
      ownerId: { in: `${U1},not-a-uuid,also-bad` },
      stage: { eq: 'maybe' },
      name: { eq: 'fine' },
      'custom.tier': { bogusOp: 'x' },
    }),
  );
  t.same(
    errors.map((e) => e.path),
    ['filter.nope', 'filter.size.contains', 'filter.size.gt', 'filter.ownerId.in', 'filter.ownerId.in', 'filter.stage.eq', 'filter.custom.tier.bogusOp'],
  );
  t.match(errors[0]?.message, /not a filterable field/);
  t.match(errors[2]?.message, /integer/);
  t.match(errors[5]?.message, /open, won, lost/);
});

t.test('compileFilter: fields that are unknown, not filterable or not own properties are refused', async (t) => {
  for (const name of ['secret', 'constructor', '__proto__', 'toString', 'custom.other']) {
    const filter: FilterInput = Object.create(null) as FilterInput;
    filter[name] = { eq: 'x' };
    const errors = refused(t, () => compileFilter(spec, filter));
    t.same(errors, [{ path: `filter.${name}`, message: 'is not a filterable field' }], name);
  }
});

t.test('compileFilter: a field without an operator is refused', async (t) => {
  const errors = refused(t, () => compileFilter(spec, { name: 'acme' } as unknown as FilterInput));
  t.equal(errors[0]?.path, 'filter.name');
  t.match(errors[0]?.message, /needs an operator/);
});

t.test('compileFilter: a dynamic (custom) field filters through its own expression', async (t) => {
  const q = render(compileFilter(spec, { 'custom.tier': { eq: 'gold' } }));
  t.equal(q.sql, '"things"."nickname" = $1::text');
  t.same(q.params, ['gold']);
});

// Which operators make sense for which type: ordering for numbers and times, text matching for
// strings, membership for discrete values, containment for tags. Anything else is refused.
const ALLOWED: Record<FieldType, string[]> = {
  string: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'startsWith', 'isNull'],
  integer: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  decimal: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  datetime: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'isNull'],
  date: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  boolean: ['eq', 'ne', 'isNull'],
  uuid: ['eq', 'ne', 'in', 'nin', 'isNull'],
  enum: ['eq', 'ne', 'in', 'nin', 'isNull'],
  tags: ['eq', 'contains', 'in', 'nin', 'isNull'],
};
const FIELD_OF_TYPE: Record<FieldType, string> = {
  string: 'nickname', integer: 'size', decimal: 'price', number: 'score', datetime: 'seenAt', date: 'birthday',
  boolean: 'active', uuid: 'ownerId', enum: 'stage', tags: 'tags',
};
const GOOD_VALUE: Record<FieldType, string> = {
  string: 'abc', integer: '42', decimal: '12.50', number: '3.14159', datetime: '2026-01-02T03:04:05.678Z', date: '2026-01-02',
  boolean: 'true', uuid: U1, enum: 'won', tags: 'vip',
};

t.test('compileFilter: operators allowed per type, all others refused with the allowed list', async (t) => {
  for (const type of Object.keys(ALLOWED) as FieldType[]) {
    const field = FIELD_OF_TYPE[type];
    for (const op of FILTER_OPS) {
      const value = op === 'isNull' ? 'true' : GOOD_VALUE[type];
      const run = () => compileFilter(spec, { [field]: { [op]: value } });
      if (ALLOWED[type].includes(op)) {
        t.ok(render(run()).sql.length > 0, `${type} ${op} compiles`);
      } else {
        const errors = refused(t, run);
        t.equal(errors.length, 1, `${type} ${op} refused`);
        t.equal(errors[0]?.path, `filter.${field}.${op}`);
        t.match(errors[0]?.message, `use one of ${ALLOWED[type].join(', ')}`);
      }
    }
  }
});

t.test('compileFilter: values are checked against the field type', async (t) => {
  const bad: [string, string, string, RegExp][] = [
    ['size', 'eq', '1.5', /integer/],
    ['size', 'eq', '1e3', /integer/],
    ['price', 'gt', '1,5', /decimal/],
    ['price', 'gt', '1.23456', /decimal/],
    ['active', 'eq', 'yes', /true or false/],
    ['seenAt', 'gt', 'yesterday', /date-time/],
    // JS Date happily reads these as 1 March / 1 July; Postgres would answer with an error
    ['seenAt', 'gt', '2026-02-30T00:00:00Z', /date-time/],
    ['birthday', 'eq', '2026-02-30', /YYYY-MM-DD/],
    ['birthday', 'eq', '2026-06-31', /YYYY-MM-DD/],
    ['birthday', 'eq', '2026-1-2', /YYYY-MM-DD/],
    ['ownerId', 'eq', 'abc', /UUID/],
    ['stage', 'eq', 'WON', /one of/],
    ['nickname', 'eq', 'x'.repeat(1001), /too long/],
    ['nickname', 'isNull', 'yes', /true or false/],
  ];
  for (const [field, op, value, message] of bad) {
    const errors = refused(t, () => compileFilter(spec, { [field]: { [op]: value } }));
    t.equal(errors[0]?.path, `filter.${field}.${op}`, `${field} ${op} ${value.slice(0, 20)}`);
    t.match(errors[0]?.message, message);
  }
  // a leap day that exists is fine
  t.same(render(compileFilter(spec, { birthday: { eq: '2024-02-29' } })).params, ['2024-02-29']);
});

t.test('compileFilter: values are normalised before they reach SQL', async (t) => {
  // a date-time with an offset becomes the UTC instant; a UUID is lower-cased
  t.same(render(compileFilter(spec, { seenAt: { gte: '2026-01-02T05:00:00+02:00' } })).params, ['2026-01-02T03:00:00.000Z']);
  t.same(render(compileFilter(spec, { ownerId: { eq: U1.toUpperCase() } })).params, [U1]);
});

/**
 * The values a list filter sends, however they are encoded: one parameter each, or one JSON array.
 * Either works on both drivers; what must never appear is `($1, $2)::type[]`, a row Postgres
 * cannot cast to an array.
 */
function listValues(t: Test, q: { sql: string; params: unknown[] }): unknown[] {
  t.notMatch(q.sql, /\(\$\d+(, \$\d+)*\)::\w+\[\]/, 'not a row cast to an array');
  return q.params.flatMap((p) => {
    if (typeof p === 'string' && p.startsWith('[')) return JSON.parse(p) as unknown[];
    return [p];
  });
}

t.test('compileFilter: in / nin take comma lists or arrays of 1 to 100 values', async (t) => {
  const list = render(compileFilter(spec, { size: { in: '1,2,3' } }));
  t.match(list.sql, /^"things"\."size" = ANY\(.+::bigint\[\]\)$/);
  t.same(listValues(t, list), ['1', '2', '3']);

  const arr = render(compileFilter(spec, { ownerId: { nin: [U1, U2] } }));
  t.match(arr.sql, /^\("things"\."owner_id" <> ALL\(.+::uuid\[\]\) OR "things"\."owner_id" IS NULL\)$/);
  t.same(listValues(t, arr), [U1, U2]);

  const hundred = Array.from({ length: 100 }, (_, i) => String(i));
  t.same(listValues(t, render(compileFilter(spec, { size: { in: hundred.join(',') } }))), hundred);

  for (const tooMany of [[...hundred, '100'].join(','), [...hundred, '100']]) {
    const errors = refused(t, () => compileFilter(spec, { size: { in: tooMany } }));
    t.same(errors, [{ path: 'filter.size.in', message: 'takes 1 to 100 values' }]);
  }
  t.same(refused(t, () => compileFilter(spec, { size: { nin: [] } })), [{ path: 'filter.size.nin', message: 'takes 1 to 100 values' }]);

  // each bad member is reported; a bad list compiles nothing
  const errors = refused(t, () => compileFilter(spec, { size: { in: '1,x,2,y' } }));
  t.equal(errors.length, 2);
  t.ok(errors.every((e) => e.path === 'filter.size.in'));
});

t.test('compileFilter: single-value operators refuse a repeated parameter', async (t) => {
  // ?filter[name][eq]=a&filter[name][eq]=b arrives as an array
  const errors = refused(t, () => compileFilter(spec, { name: { eq: ['a', 'b'] } }));
  t.same(errors, [{ path: 'filter.name.eq', message: 'must be a single value' }]);
});

t.test('compileFilter: SQL of the special operators', async (t) => {
  const like = render(compileFilter(spec, { nickname: { contains: '50%_off\\' } }));
  t.equal(like.sql, '"things"."nickname" ILIKE $1');
  t.same(like.params, ['%50\\%\\_off\\\\%'], 'LIKE wildcards in the value match literally');
  t.same(render(compileFilter(spec, { nickname: { startsWith: 'ab' } })).params, ['ab%']);

  t.equal(render(compileFilter(spec, { nickname: { isNull: 'true' } })).sql, '"things"."nickname" IS NULL');
  t.equal(render(compileFilter(spec, { nickname: { isNull: 'false' } })).sql, '"things"."nickname" IS NOT NULL');
  // ne keeps rows where the field is empty: "not equal to x" includes "no value"
  t.equal(render(compileFilter(spec, { nickname: { ne: 'x' } })).sql, '("things"."nickname" <> $1::text OR "things"."nickname" IS NULL)');

  const tag = render(compileFilter(spec, { tags: { contains: 'vip' } }));
  t.equal(tag.sql, '"things"."tags" @> ARRAY[$1]::text[]');
  const anyTag = render(compileFilter(spec, { tags: { in: 'a,b' } }));
  t.match(anyTag.sql, /^"things"\."tags" && .+::text\[\]$/, 'in on tags means "has any of"');
  t.same(listValues(t, anyTag), ['a', 'b']);
  t.equal(render(compileFilter(spec, { tags: { isNull: 'true' } })).sql, 'cardinality("things"."tags") = 0');
});

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
