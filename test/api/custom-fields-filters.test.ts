import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { queryRows } from '../../src/platform/db/execute.js';

// filter[custom.<key>][op] and sort=custom.<key> through the §2 grammar, keyset paging over custom
// sorts, and the GIN index serving custom equality filters.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

for (const d of [
  { key: 'tier', type: 'select', options: ['gold', 'silver', 'bronze'] },
  { key: 'score', type: 'number' },
  { key: 'since', type: 'date' },
  { key: 'seen_at', type: 'datetime' },
  { key: 'vip', type: 'boolean' },
  { key: 'channels', type: 'multiselect', options: ['web', 'shop', 'app'] },
  { key: 'note', type: 'text' },
  { key: 'credit', type: 'currency' },
  { key: 'contact_email', type: 'email' },
]) {
  const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'company', label: d.key, ...d } });
  if (res.statusCode !== 201) throw new Error(res.body);
}

interface Seed { name: string; custom: Record<string, unknown> }
const SEED: Seed[] = [
  { name: 'A', custom: { tier: 'gold', score: 10, since: '2020-01-01', seen_at: '2026-01-01T00:00:00.000Z', vip: true, channels: ['web'], note: 'alpha', credit: '10.50', contact_email: 'a@x.example' } },
  { name: 'B', custom: { tier: 'silver', score: 2.5, since: '2021-06-01', vip: false, channels: ['web', 'shop'], note: 'beta', credit: '100' } },
  { name: 'C', custom: { tier: 'gold', score: 7, since: '2019-03-03', seen_at: '2026-02-01T00:00:00.000Z', channels: [] } },
  { name: 'D', custom: { tier: 'bronze', score: 10, vip: true, channels: ['app'], credit: '10.5' } },
  { name: 'E', custom: {} },
  { name: 'F', custom: { tier: 'gold', score: -1, since: '2022-12-31', vip: false, channels: ['shop', 'app'], note: 'gamma' } },
  { name: 'G', custom: { score: 1000.125, seen_at: '2025-12-31T23:59:59.999Z' } },
];
const ids = new Map<string, string>();
for (const s of SEED) {
  const res = await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: s.name, tags: ['cf'], custom: s.custom } });
  if (res.statusCode !== 201) throw new Error(res.body);
  ids.set(s.name, res.json().id);
}

const SCOPE = { 'filter[tags][contains]': 'cf' };
const list = (query: Record<string, string>) =>
  h.request({ method: 'GET', url: '/v1/companies', headers: admin.auth, query: { ...SCOPE, ...query } });
async function names(query: Record<string, string>): Promise<string[]> {
  const res = await list({ limit: '200', ...query });
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json().data.map((r: { name: string }) => r.name);
}
const sorted = (xs: string[]) => [...xs].sort();

t.test('filters on every custom type', async (t) => {
  const cases: [Record<string, string>, string[]][] = [
    [{ 'filter[custom.tier][eq]': 'gold' }, ['A', 'C', 'F']],
    [{ 'filter[custom.tier][ne]': 'gold' }, ['B', 'D', 'E', 'G']],
    [{ 'filter[custom.tier][in]': 'silver,bronze' }, ['B', 'D']],
    [{ 'filter[custom.tier][nin]': 'gold,silver' }, ['D', 'E', 'G']],
    [{ 'filter[custom.tier][isNull]': 'true' }, ['E', 'G']],
    [{ 'filter[custom.score][eq]': '10' }, ['A', 'D']],
    [{ 'filter[custom.score][gt]': '7' }, ['A', 'D', 'G']],
    [{ 'filter[custom.score][lte]': '2.5' }, ['B', 'F']],
    [{ 'filter[custom.score][eq]': '1000.125' }, ['G']],
    [{ 'filter[custom.since][gte]': '2021-01-01' }, ['B', 'F']],
    [{ 'filter[custom.since][eq]': '2019-03-03' }, ['C']],
    [{ 'filter[custom.seen_at][lt]': '2026-01-01T00:00:00Z' }, ['G']],
    [{ 'filter[custom.seen_at][eq]': '2026-01-01T02:00:00+02:00' }, ['A']],
    [{ 'filter[custom.vip][eq]': 'true' }, ['A', 'D']],
    [{ 'filter[custom.vip][eq]': 'false' }, ['B', 'F']],
    [{ 'filter[custom.channels][contains]': 'web' }, ['A', 'B']],
    [{ 'filter[custom.channels][in]': 'shop,app' }, ['B', 'D', 'F']],
    [{ 'filter[custom.channels][nin]': 'web' }, ['C', 'D', 'E', 'F', 'G']],
    [{ 'filter[custom.channels][isNull]': 'true' }, ['C', 'E', 'G']],
    [{ 'filter[custom.note][contains]': 'ET' }, ['B']],
    [{ 'filter[custom.note][startsWith]': 'g' }, ['F']],
    [{ 'filter[custom.credit][eq]': '10.5' }, ['A', 'D']],
    [{ 'filter[custom.contact_email][eq]': 'A@X.example' }, ['A']],
    [{ 'filter[custom.tier][eq]': 'gold', 'filter[custom.score][gt]': '0' }, ['A', 'C']],
  ];
  for (const [query, expected] of cases) t.same(sorted(await names(query)), expected, JSON.stringify(query));
});

t.test('count takes custom filters too', async (t) => {
  const res = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { ...SCOPE, 'filter[custom.tier][eq]': 'gold' } });
  t.same(res.json(), { count: 3 });
});

t.test('unknown custom keys, bad values and wrong operators → 400', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ 'filter[custom.nope][eq]': 'x' }, 'filter.custom.nope'],
    [{ 'filter[custom.tier][eq]': 'platinum' }, 'filter.custom.tier.eq'],
    [{ 'filter[custom.score][gt]': 'ten' }, 'filter.custom.score.gt'],
    [{ 'filter[custom.vip][gt]': 'true' }, 'filter.custom.vip.gt'],
    [{ sort: 'custom.nope' }, 'sort'],
    [{ sort: 'custom.channels' }, 'sort'],
  ];
  for (const [query, path] of cases) {
    const res = await list(query);
    t.equal(res.statusCode, 400, JSON.stringify(query));
    t.equal(res.json().errors?.[0]?.path, path);
  }
});

/** Expected order: Postgres defaults (ASC NULLS LAST, DESC NULLS FIRST), id (creation order) breaks ties. */
function expectedOrder(key: string, desc: boolean, value: (v: unknown) => number | string): string[] {
  const order = SEED.map((s, i) => ({ s, i }));
  order.sort((a, b) => {
    const x = a.s.custom[key];
    const y = b.s.custom[key];
    let cmp: number;
    if (x === undefined && y === undefined) cmp = 0;
    else if (x === undefined) cmp = 1;
    else if (y === undefined) cmp = -1;
    else cmp = value(x) < value(y) ? -1 : value(x) > value(y) ? 1 : 0;
    if (cmp === 0) cmp = a.i - b.i;
    return desc ? -cmp : cmp;
  });
  return order.map((o) => o.s.name);
}

t.test('sorts on custom fields, paged two at a time, cursors round-trip', async (t) => {
  const specs: [string, (v: unknown) => number | string][] = [
    ['score', (v) => Number(v)],
    ['since', (v) => String(v)],
    ['seen_at', (v) => String(v)],
    ['tier', (v) => String(v)],
    ['credit', (v) => Number(v)],
  ];
  for (const [key, value] of specs) {
    for (const desc of [false, true]) {
      const sort = `${desc ? '-' : ''}custom.${key}`;
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await list({ sort, limit: '2', ...(cursor ? { cursor } : {}) });
        t.equal(res.statusCode, 200, res.body);
        seen.push(...res.json().data.map((r: { name: string }) => r.name));
        cursor = res.json().nextCursor ?? undefined;
        if (!cursor) break;
      }
      t.same(seen, expectedOrder(key, desc, value), sort);
    }
  }
  const mixed = await names({ sort: 'custom.tier,-custom.score' });
  t.same(mixed, ['D', 'A', 'C', 'F', 'B', 'E', 'G'], 'several custom keys sort together');
});

t.test('GraphQL filters take custom fields as JSON through the same grammar', async (t) => {
  const q = 'query($f: JSON) { companies(filter: { tags: { contains: "cf" }, custom: $f }, first: 50) { edges { node { name } } } }';
  const res = await h.gql(admin, q, { f: { tier: { eq: 'gold' }, score: { gt: 0 } } });
  t.same(sorted(res.body.data?.companies.edges.map((e: { node: { name: string } }) => e.node.name)), ['A', 'C']);
  const multi = await h.gql(admin, q, { f: { channels: { contains: 'shop' } } });
  t.same(sorted(multi.body.data?.companies.edges.map((e: { node: { name: string } }) => e.node.name)), ['B', 'F']);
  const unknown = await h.gql(admin, q, { f: { nope: { eq: 'x' } } });
  t.equal(unknown.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.same(unknown.body.errors?.[0]?.extensions.errors?.map((e) => e.path), ['filter.custom.nope']);
  const count = await h.gql(admin, 'query($f: JSON) { companiesCount(filter: { tags: { contains: "cf" }, custom: $f }) }', { f: { vip: { eq: true } } });
  t.equal(count.body.data?.companiesCount, 2);
});

t.test('EXPLAIN: a custom equality filter is served by the GIN index on custom', async (t) => {
  const db = h.db.database.db;
  await db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    const { customFieldSpec } = await import('../../src/modules/customer/custom-values.js');
    const { companies } = await import('../../src/modules/customer/company.table.js');
    const spec = customFieldSpec({ key: 'tier', type: 'select', options: ['gold'], required: false }, companies.custom);
    const where = spec.filterSql?.('eq', ['gold']);
    t.ok(where, 'eq compiles to containment');
    const plan = await queryRows<Record<string, string>>(tx, sql`EXPLAIN SELECT id FROM companies WHERE ${where}`);
    const text = plan.rows.map((r) => Object.values(r)[0]).join('\n');
    t.match(text, /companies_custom_idx/, text);
    const multi = customFieldSpec({ key: 'channels', type: 'multiselect', options: ['web'], required: false }, companies.custom).filterSql?.('contains', ['web']);
    const plan2 = await queryRows<Record<string, string>>(tx, sql`EXPLAIN SELECT id FROM companies WHERE ${multi}`);
    t.match(plan2.rows.map((r) => Object.values(r)[0]).join('\n'), /companies_custom_idx/);
  });
});
