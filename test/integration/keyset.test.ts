import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { type SQL, inArray, sql } from 'drizzle-orm';
import { createTestDatabase } from '../helpers/database.js';
import { type FilterInput, compileList, toPage } from '../../src/platform/http/collection.js';
import { companyCollection, listCompanies } from '../../src/modules/customer/company.repository.js';
import { type CompanyInsert, companies } from '../../src/modules/customer/company.table.js';
import type { Executor } from '../../src/platform/db/client.js';

// Keyset pagination must return every row exactly once, in the order a plain ORDER BY of the whole
// set gives, for any sort: nullable keys (where Postgres puts NULLs last ascending and first
// descending), ties that only the id breaks, mixed directions, and any page size. The rows are
// written straight into `companies` so nulls and ties are exactly where the test wants them.

const tdb = await createTestDatabase();
t.teardown(() => tdb.close());
const db: Executor = tdb.database.db;

// Few distinct values, so most sort keys tie; about a third of each nullable column is NULL.
const industries = [null, 'retail', 'energy', 'Retail', 'énergie'];
const employeeCounts = [null, 10, 20, 10, 0, null, 5000];
const revenues = [null, '10.5000', '10.5', '-3', '1000000000.1234', null];
const names = ['acme', 'Acme', 'ACME', 'Ácme', 'beta', 'beta', 'Zed', 'zed 2'];
const instants = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.001Z', '2025-12-31T23:59:59.999Z'];

const rows: CompanyInsert[] = Array.from({ length: 47 }, (_, i) => ({
  // random (v4) ids: the tie-breaker order has nothing to do with insertion order
  id: randomUUID(),
  name: names[i % names.length] as string,
  domain: i % 3 === 0 ? null : `c${(i * 7919) % 1000}.example`,
  industry: industries[i % industries.length] ?? null,
  employees: employeeCounts[i % employeeCounts.length] ?? null,
  annualRevenue: revenues[i % revenues.length] ?? null,
  currency: 'SAR',
  createdAt: new Date(instants[i % instants.length] as string),
  updatedAt: new Date(instants[(i + 1) % instants.length] as string),
  // two soft-deleted rows: listed only with includeDeleted
  deletedAt: i === 5 || i === 30 ? new Date('2026-02-01T00:00:00.000Z') : null,
}));
await db.insert(companies).values(rows);
const mine = rows.map((r) => r.id as string);
const deleted = new Set(rows.filter((r) => r.deletedAt).map((r) => r.id));
// every query is limited to this test's rows
const scopeOf = (ids: string[]) => inArray(companies.id, ids);
const scope = scopeOf(mine);

// The reference: a plain ORDER BY written out by hand, not by the code under test.
const COLUMN: Record<string, string> = {
  id: 'id', name: 'name', domain: 'domain', industry: 'industry', employees: 'employees',
  annualRevenue: 'annual_revenue', createdAt: 'created_at', updatedAt: 'updated_at',
};

async function referenceOrder(sort: string, o: { includeDeleted: boolean; where?: SQL; ids?: string[] }): Promise<string[]> {
  const keys = sort.split(',').map((s) => ({ col: COLUMN[s.replace(/^-/, '')] as string, desc: s.startsWith('-') }));
  const last = keys.at(-1);
  if (!keys.some((k) => k.col === 'id')) keys.push({ col: 'id', desc: last?.desc ?? false });
  const orderBy = keys.map((k) => `"${k.col}" ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
  const r = await db
    .select({ id: companies.id })
    .from(companies)
    .where(sql`${scopeOf(o.ids ?? mine)} ${o.includeDeleted ? sql`` : sql`AND deleted_at IS NULL`} ${o.where ? sql`AND ${o.where}` : sql``}`)
    .orderBy(sql.raw(orderBy));
  return r.map((x) => x.id);
}

/** Pages through the listing as a client would, following nextCursor until it is null. */
async function pageThrough(
  t: Test,
  sort: string,
  limit: number,
  o: { includeDeleted: boolean; filter?: FilterInput },
): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages <= mine.length + 1; pages++) {
    const list = compileList(companyCollection, { sort, limit, cursor, filter: o.filter });
    const fetched = await listCompanies(db, list, { includeDeleted: o.includeDeleted, scope });
    const page = toPage(list, fetched, (r) => r, (r) => r.id);
    seen.push(...page.items);
    if (page.nextCursor === null) return seen;
    t.equal(page.items.length, limit, 'only the last page is short');
    cursor = page.nextCursor;
  }
  t.fail(`sort ${sort} limit ${limit}: the cursor never ended`);
  return seen;
}

const SORTS = [
  'domain', // nullable first key, ascending: nulls at the end
  '-domain', // nullable first key, descending: nulls first
  'industry', // nullable with many ties, broken by id
  '-industry,employees', // two nullable keys, mixed directions
  'employees,-annualRevenue,name', // three keys, nulls in the first two
  '-annualRevenue', // decimals equal in value but written differently ("10.5" = "10.5000")
  'name', // not nullable, ties: the row-comparison path
  '-name,createdAt', // not nullable, mixed directions
  '-createdAt', // the default sort, timestamps that tie to the millisecond
  'updatedAt,-id', // an explicit id key
];

t.test('every row exactly once, in ORDER BY order, for every sort and page size', async (t) => {
  for (const sort of SORTS) {
    const expected = await referenceOrder(sort, { includeDeleted: true });
    t.equal(expected.length, mine.length, 'the reference holds every row');
    for (const limit of [1, 3, 7, 50]) {
      const got = await pageThrough(t, sort, limit, { includeDeleted: true });
      t.same(got, expected, `sort=${sort} limit=${limit}`);
    }
  }
});

t.test('soft-deleted rows are left out unless asked for', async (t) => {
  const got = await pageThrough(t, '-industry,employees', 4, { includeDeleted: false });
  t.same(got, await referenceOrder('-industry,employees', { includeDeleted: false }));
  t.equal(got.length, mine.length - deleted.size);
  t.notOk(got.some((id) => deleted.has(id)));
});

t.test('filters and cursors together, on the real database', async (t) => {
  // in / nin / isNull / ne over nullable columns; the reference applies the same conditions by hand
  const cases: [FilterInput, SQL][] = [
    [{ employees: { in: '10,5000' } }, sql`employees IN (10, 5000)`],
    [{ industry: { nin: 'retail,energy' } }, sql`(industry NOT IN ('retail', 'energy') OR industry IS NULL)`],
    [{ annualRevenue: { isNull: 'false' }, name: { ne: 'beta' } }, sql`annual_revenue IS NOT NULL AND name <> 'beta'`],
    [{ name: { startsWith: 'ac' } }, sql`name ILIKE 'ac%'`],
  ];
  for (const [filter, where] of cases) {
    const expected = await referenceOrder('employees,-name', { includeDeleted: true, where });
    t.ok(expected.length > 0 && expected.length < mine.length, `${JSON.stringify(filter)} selects some rows`);
    t.same(await pageThrough(t, 'employees,-name', 2, { includeDeleted: true, filter }), expected, JSON.stringify(filter));
  }
});

t.test('a row inserted behind the cursor does not shift the following pages', async (t) => {
  // keyset, not offset: rows added before the current position are not seen, later ones are
  const sort = 'name';
  const first = compileList(companyCollection, { sort, limit: 10 });
  const page1 = toPage(first, await listCompanies(db, first, { includeDeleted: true, scope }), (r) => r, (r) => r.id);
  const early = randomUUID();
  await db.insert(companies).values({ id: early, name: '' }); // sorts before every other name
  t.teardown(() => db.delete(companies).where(scopeOf([early])));
  const ids = [...mine, early];
  const rest: string[] = [];
  let cursor = page1.nextCursor ?? undefined;
  while (cursor) {
    const list = compileList(companyCollection, { sort, limit: 10, cursor });
    const page = toPage(list, await listCompanies(db, list, { includeDeleted: true, scope: scopeOf(ids) }), (r) => r, (r) => r.id);
    rest.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  }
  const all = await referenceOrder(sort, { includeDeleted: true, ids });
  t.equal(all[0], early, 'the new row sorts first');
  t.same([...page1.items, ...rest], all.slice(1), 'the pages after the cursor are exactly the rest of the old order');
});
