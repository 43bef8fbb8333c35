import t, { type Test } from 'tap';
import { type FieldType, type FilterInput, FILTER_OPS, compileFilter } from '../../src/platform/http/collection.js';
import { U1, U2, refused, render, spec } from '../helpers/collection-fixture.js';

// The filter grammar of API.md §2 without a database: what compiles, what is refused and with which
// dotted paths, and the SQL that comes out. Sorts, lists and cursors: collection-sort-cursor.test.ts.

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
