import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// GET /v1/companies and /count: sorts, keyset pages, filters, search and their refusals (API.md §2).

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

interface Row {
  id: string;
  name: string;
  domain: string | null;
  industry: string | null;
  employees: number | null;
  annualRevenue: string | null;
  createdAt: string;
  tags: string[];
}

// One-word capitalised names: every collation (the server's en_US, PGlite's C) orders them alike.
// Nulls and ties on industry, employees and annualRevenue exercise the keyset edge cases.
const SEED: [string, string | null, string | null, number | null, string | null, string[]][] = [
  ['Alpha', 'alpha.example', 'retail', 10, '100.00', ['vip']],
  ['Bravo', 'bravo.example', 'retail', 10, null, []],
  ['Charlie', null, 'energy', null, '50', ['b2b']],
  ['Delta', 'delta-corp.example', null, 250, null, ['b2b']],
  ['Echo', 'echo.example', 'energy', 10, '100', []],
  ['Foxtrot', null, null, null, null, []],
  ['Golf', 'golf.example', 'media', 5000, '1', ['vip', 'b2b']],
  ['Hotel', 'hotel.example', 'retail', 250, null, []],
  ['India', 'india.example', null, 10, '7', []],
  ['Juliet', 'juliet.example', 'media', null, null, []],
  ['Kilo', 'kilo.example', 'energy', 3, '100.00', []],
  ['Lima', 'lima.example', 'retail', 10, null, []],
];

const rows: Row[] = [];
for (const [name, domain, industry, employees, annualRevenue, tags] of SEED) {
  const res = await h.request({
    method: 'POST', url: '/v1/companies', headers: admin.auth,
    payload: { name, domain, industry, employees, annualRevenue, currency: annualRevenue ? 'SAR' : null, tags: ['ls', ...tags] },
  });
  if (res.statusCode !== 201) throw new Error(`seed failed: ${res.body}`);
  rows.push(res.json());
}
const byName = (n: string) => rows.find((r) => r.name === n) as Row;

/** Every list here is narrowed to the seeded rows by their tag, so other tests' rows never count. */
const SCOPE = { 'filter[tags][contains]': 'ls' };

const list = (query: Record<string, string>) =>
  h.request({ method: 'GET', url: '/v1/companies', headers: admin.auth, query: { ...SCOPE, ...query } });

async function names(query: Record<string, string>): Promise<string[]> {
  const res = await list({ ...query, limit: '200' });
  if (res.statusCode !== 200) throw new Error(`list failed: ${res.body}`);
  return res.json().data.map((r: Row) => r.name).sort();
}

const expectNames = (pred: (r: Row) => boolean) => rows.filter(pred).map((r) => r.name).sort();

/** The order a sort must produce: Postgres defaults (ASC NULLS LAST, DESC NULLS FIRST), id breaks ties. */
function expectedOrder(sort: string): string[] {
  const keys = sort.split(',').map((k) => ({ name: k.replace(/^-/, ''), desc: k.startsWith('-') }));
  keys.push({ name: 'id', desc: keys.at(-1)?.desc ?? false });
  const value = (r: Row, k: string) => {
    const v = (r as unknown as Record<string, unknown>)[k];
    return k === 'annualRevenue' && v !== null ? Number(v) : (v as string | number | null);
  };
  return [...rows]
    .sort((a, b) => {
      for (const k of keys) {
        const x = value(a, k.name);
        const y = value(b, k.name);
        if (x === y) continue;
        // nulls are larger than any value: last ascending, first descending
        const cmp = x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
        return k.desc ? -cmp : cmp;
      }
      return 0;
    })
    .map((r) => r.id);
}

/** Follows nextCursor from the first page to the last. */
async function walk(sort: string | undefined, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: Record<string, string> = { limit: String(limit), ...(sort ? { sort } : {}), ...(cursor ? { cursor } : {}) };
    const res = await list(query);
    if (res.statusCode !== 200) throw new Error(`page ${pages} failed: ${res.body}`);
    const body = res.json();
    ids.push(...body.data.map((r: Row) => r.id));
    cursor = body.nextCursor;
    pages++;
    if (pages > rows.length + 1) throw new Error('the cursor never ends');
  } while (cursor);
  return { ids, pages };
}

t.test('the default order is newest first', async (t) => {
  const res = await list({});
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.same(body.data.map((r: Row) => r.id), expectedOrder('-createdAt'));
  t.equal(body.data[0].name, 'Lima', 'the last created comes first');
  t.equal(body.nextCursor, null, 'one page holds them all');
});

t.test('sort by name ascending and descending', async (t) => {
  const asc = (await list({ sort: 'name' })).json().data.map((r: Row) => r.name);
  t.same(asc, SEED.map((s) => s[0]));
  const desc = (await list({ sort: '-name' })).json().data.map((r: Row) => r.name);
  t.same(desc, [...SEED.map((s) => s[0])].reverse());
});

t.test('keyset pages visit every record exactly once, in sort order, for every sort', async (t) => {
  const sorts = [
    undefined, 'name', '-name', 'industry', '-industry', 'employees', '-employees', 'employees,-name',
    '-employees,name', 'industry,-employees', '-industry,employees', 'annualRevenue', '-annualRevenue',
    'domain', '-createdAt', 'createdAt', 'updatedAt,-id',
  ];
  for (const sort of sorts) {
    for (const limit of [1, 3, 5]) {
      const { ids, pages } = await walk(sort, limit);
      t.equal(new Set(ids).size, ids.length, `sort=${sort} limit=${limit}: no record twice`);
      t.same(ids, expectedOrder(sort ?? '-createdAt'), `sort=${sort} limit=${limit}: all records in order`);
      t.equal(pages, Math.ceil(rows.length / limit), `sort=${sort} limit=${limit}: no empty last page`);
    }
  }
});

t.test('a page ends with nextCursor only when more follow', async (t) => {
  const first = (await list({ limit: String(rows.length - 1), sort: 'name' })).json();
  t.equal(first.data.length, rows.length - 1);
  t.type(first.nextCursor, 'string');
  const last = (await list({ limit: String(rows.length - 1), sort: 'name', cursor: first.nextCursor })).json();
  t.same(last.data.map((r: Row) => r.name), ['Lima']);
  t.equal(last.nextCursor, null);
});

t.test('filters', async (t) => {
  const cases: [Record<string, string>, (r: Row) => boolean][] = [
    [{ 'filter[industry][eq]': 'retail' }, (r) => r.industry === 'retail'],
    [{ 'filter[industry][ne]': 'retail' }, (r) => r.industry !== 'retail'],
    [{ 'filter[industry][in]': 'energy,media' }, (r) => r.industry === 'energy' || r.industry === 'media'],
    [{ 'filter[industry][nin]': 'energy,retail' }, (r) => r.industry !== 'energy' && r.industry !== 'retail'],
    [{ 'filter[name][contains]': 'ELT' }, (r) => r.name === 'Delta'],
    [{ 'filter[name][contains]': 'o' }, (r) => /o/i.test(r.name)],
    [{ 'filter[name][contains]': '%' }, () => false],
    [{ 'filter[name][startsWith]': 'ch' }, (r) => r.name === 'Charlie'],
    [{ 'filter[domain][startsWith]': 'delta-' }, (r) => r.name === 'Delta'],
    [{ 'filter[employees][gt]': '10' }, (r) => r.employees !== null && r.employees > 10],
    [{ 'filter[employees][lt]': '10' }, (r) => r.employees !== null && r.employees < 10],
    [{ 'filter[employees][gte]': '10', 'filter[employees][lte]': '250' }, (r) => r.employees !== null && r.employees >= 10 && r.employees <= 250],
    [{ 'filter[employees][eq]': '10' }, (r) => r.employees === 10],
    [{ 'filter[employees][in]': '3,5000' }, (r) => r.employees === 3 || r.employees === 5000],
    [{ 'filter[employees][isNull]': 'true' }, (r) => r.employees === null],
    [{ 'filter[industry][isNull]': 'false' }, (r) => r.industry !== null],
    [{ 'filter[domain][isNull]': 'true' }, (r) => r.domain === null],
    [{ 'filter[annualRevenue][gte]': '100' }, (r) => r.annualRevenue !== null && Number(r.annualRevenue) >= 100],
    [{ 'filter[tags][contains]': 'vip' }, (r) => r.tags.includes('vip')],
    [{ 'filter[tags][in]': 'vip,b2b' }, (r) => r.tags.includes('vip') || r.tags.includes('b2b')],
    [{ 'filter[industry][eq]': 'retail', 'filter[employees][eq]': '10' }, (r) => r.industry === 'retail' && r.employees === 10],
    [{ 'filter[id][eq]': byName('Golf').id }, (r) => r.name === 'Golf'],
  ];
  for (const [query, pred] of cases) {
    t.same(await names(query), expectNames(pred), JSON.stringify(query));
  }
});

t.test('createdAt filters compare instants', async (t) => {
  const pivot = byName('Foxtrot').createdAt;
  t.same(await names({ 'filter[createdAt][gt]': pivot }), expectNames((r) => r.createdAt > pivot));
  t.same(await names({ 'filter[createdAt][lt]': pivot }), expectNames((r) => r.createdAt < pivot));
  t.same(await names({ 'filter[createdAt][lte]': pivot }), expectNames((r) => r.createdAt <= pivot));
  const later = await names({ 'filter[createdAt][gt]': new Date(Date.now() + 3_600_000).toISOString() });
  t.same(later, [], 'nothing is created in the future');
});

t.test('bad filters are 400 with the path filter.<field>.<op>', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ 'filter[nickname][eq]': 'x' }, 'filter.nickname'],
    [{ 'filter[employees][contains]': '1' }, 'filter.employees.contains'],
    [{ 'filter[name][between]': 'a' }, 'filter.name.between'],
    [{ 'filter[employees][gt]': 'many' }, 'filter.employees.gt'],
    [{ 'filter[employees][in]': '1,two' }, 'filter.employees.in'],
    [{ 'filter[createdAt][gt]': 'yesterday' }, 'filter.createdAt.gt'],
    [{ 'filter[ownerId][eq]': 'me' }, 'filter.ownerId.eq'],
    [{ 'filter[industry][isNull]': 'maybe' }, 'filter.industry.isNull'],
    [{ 'filter[annualRevenue][gt]': '1e5' }, 'filter.annualRevenue.gt'],
  ];
  for (const [query, path] of cases) {
    for (const url of ['/v1/companies', '/v1/companies/count']) {
      const res = await h.request({ method: 'GET', url, headers: admin.auth, query });
      t.equal(res.statusCode, 400, `${url} ${JSON.stringify(query)}`);
      t.match(res.json(), { code: 'validation_failed', errors: [{ path }] }, `${url}: names ${path}`);
    }
  }
});

t.test('bad sorts, limits, cursors and parameters are 400', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ sort: 'nickname' }, 'sort'],
    [{ sort: 'tags' }, 'sort'],
    [{ sort: 'name,name' }, 'sort'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '201' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ cursor: 'not-a-cursor' }, 'cursor'],
    [{ colour: 'red' }, 'colour'],
  ];
  for (const [query, path] of cases) {
    const res = await list(query);
    t.equal(res.statusCode, 400, JSON.stringify(query));
    t.match(res.json(), { code: 'validation_failed', errors: [{ path }] });
  }
  t.equal((await list({ limit: '200' })).statusCode, 200, '200 is the largest page');

  const byName = (await list({ sort: 'name', limit: '2' })).json();
  const mixed = await list({ sort: '-employees', limit: '2', cursor: byName.nextCursor });
  t.equal(mixed.statusCode, 400, 'a cursor of another sort is refused');
  t.match(mixed.json(), { errors: [{ path: 'cursor' }] });
  const defaulted = await list({ limit: '2', cursor: byName.nextCursor });
  t.equal(defaulted.statusCode, 400, 'the default sort is another sort too');
});

t.test('q searches name and domain', async (t) => {
  t.same(await names({ q: 'BRAVO' }), ['Bravo'], 'name, case-insensitively');
  t.same(await names({ q: 'corp' }), ['Delta'], 'domain');
  t.same(await names({ q: 'li' }), expectNames((r) => /li/i.test(r.name) || /li/i.test(r.domain ?? '')));
  t.same(await names({ q: 'ma', 'filter[industry][eq]': 'retail' }), ['Lima'], 'q and filters together');
  t.same(await names({ q: '%' }), [], 'LIKE wildcards are literal');
  t.equal((await list({ q: '' })).statusCode, 400, 'an empty q is refused');
});

t.test('/companies/count takes the same filters and q', async (t) => {
  const count = async (query: Record<string, string>) => {
    const res = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { ...SCOPE, ...query } });
    t.equal(res.statusCode, 200);
    return res.json().count;
  };
  t.equal(await count({}), rows.length);
  t.equal(await count({ 'filter[industry][eq]': 'retail' }), 4);
  t.equal(await count({ 'filter[employees][isNull]': 'true' }), 3);
  t.equal(await count({ q: 'example', 'filter[industry][in]': 'media,energy' }), 4);
  const extra = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { sort: 'name' } });
  t.equal(extra.statusCode, 400, 'count takes no sort');
});
