import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// The companies slice over POST /graphql: same services, rules and error codes as REST (API.md §5b).

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const FIELDS = 'id version name domain industry employees phone annualRevenue currency ownerId teamId deletedAt tags address { city country }';

/** Runs a query and returns its data and error codes; a transport failure fails the test loudly. */
async function gql(query: string, variables?: Record<string, unknown>, who: ReturnType<typeof h.user> = admin) {
  const res = await h.gql(who, query, variables);
  const errors = res.body.errors ?? [];
  return { status: res.status, data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}

const CREATE = `mutation($input: CompanyCreateInput!) { createCompany(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: CompanyPatchInput!, $v: Int) { updateCompany(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const LIST = `query($filter: CompanyFilter, $sort: [CompanySort!], $first: Int, $after: String, $q: String) {
  companies(filter: $filter, sort: $sort, first: $first, after: $after, q: $q) {
    edges { cursor node { id name employees } } pageInfo { hasNextPage endCursor } } }`;

async function create(input: Record<string, unknown>, who = admin) {
  const r = await gql(CREATE, { input }, who);
  if (!r.data?.createCompany) throw new Error(`create failed: ${JSON.stringify(r.errors)}`);
  return r.data.createCompany;
}

t.test('createCompany and company(id) answer the stored record', async (t) => {
  const c = await create({ name: 'Graph Co', domain: 'Graph.EXAMPLE', phone: '0112345678', annualRevenue: '12.5', currency: 'KWD', address: { city: 'Riyadh', country: 'SA' } });
  t.match(c, { version: 1, domain: 'graph.example', phone: '+966112345678', annualRevenue: '12.500', ownerId: admin.id, address: { city: 'Riyadh', country: 'SA' } });

  const one = await gql(`query($id: ID!) { company(id: $id) { ${FIELDS} } }`, { id: c.id });
  t.same(one.errors, []);
  t.same(one.data?.company, c);

  const rest = await h.request({ method: 'GET', url: `/v1/companies/${c.id}`, headers: admin.auth });
  t.match(rest.json(), { id: c.id, name: 'Graph Co', annualRevenue: '12.500' }, 'REST sees the same record');
});

t.test('validation errors carry validation_failed with errors[] paths, like REST', async (t) => {
  const paths = (r: { errors: { extensions: { errors?: { path: string }[] } }[] }) =>
    (r.errors[0]?.extensions.errors ?? []).map((e) => e.path).sort();
  // two stages, each listing every field it refuses: the shape (zod), then phone, money and custom values
  const bad = await gql(CREATE, { input: { name: 'Bad Graph', domain: 'nope', employees: -1 } });
  t.same(bad.codes, ['validation_failed']);
  t.equal(bad.data, null);
  t.same(paths(bad), ['domain', 'employees']);
  t.equal(bad.status, 400, 'no data at all: the error status is the HTTP status');
  const checks = await gql(CREATE, { input: { name: 'Bad Graph', phone: '12', custom: { tier: 'gold' } } });
  t.same(checks.codes, ['validation_failed']);
  t.same(paths(checks), ['custom.tier', 'phone']);

  const readOnly = await gql(CREATE, { input: { name: 'Bad Graph', custom: {}, externalIds: { 'Not Valid': 'x' } } });
  t.same(readOnly.codes, ['validation_failed']);
  t.match(readOnly.errors[0]?.extensions.errors, [{ path: /^externalIds\./ }]);

  const unknownField = await gql(CREATE, { input: { name: 'Bad Graph', website: 'x' } });
  t.same(unknownField.codes, ['validation_failed'], 'an input field the schema does not know');
  const parse = await gql('{ companies(first: ) { edges { cursor } } }');
  t.same(parse.codes, ['validation_failed'], 'a parse error');
  const notDecimal = await gql(CREATE, { input: { name: 'Bad Graph', annualRevenue: 12.5, currency: 'SAR' } });
  t.same(notDecimal.codes, ['validation_failed'], 'Decimal refuses a float');

  const count = await gql('query { companiesCount(filter: { name: { eq: "Bad Graph" } }) }');
  t.equal(count.data?.companiesCount, 0, 'nothing written');
});

t.test('companies: filter, sort, q and first/after connection paging', async (t) => {
  const names = ['Gq Alpha', 'Gq Bravo', 'Gq Charlie', 'Gq Delta', 'Gq Echo'];
  for (const [i, name] of names.entries()) await create({ name, employees: i % 2 ? null : i * 10, tags: ['gq'] });
  const filter = { tags: { contains: 'gq' } };

  const seen: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const page = await gql(LIST, { filter, sort: [{ field: 'name', direction: 'DESC' }], first: 2, after });
    t.same(page.errors, []);
    const conn = page.data?.companies;
    seen.push(...conn.edges.map((e: { node: { name: string } }) => e.node.name));
    t.equal(conn.pageInfo.endCursor, conn.edges.at(-1)?.cursor ?? null, 'endCursor is the last edge\'s cursor');
    pages++;
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  t.same(seen, [...names].reverse(), 'every company once, in name DESC order');
  t.equal(pages, 3);

  const nulls = await gql(LIST, { filter: { ...filter, employees: { isNull: true } }, sort: [{ field: 'name' }] });
  t.same(nulls.data?.companies.edges.map((e: { node: { name: string } }) => e.node.name), ['Gq Bravo', 'Gq Delta']);
  const gt = await gql(LIST, { filter: { ...filter, employees: { gt: 0 } }, sort: [{ field: 'employees', direction: 'DESC' }] });
  t.same(gt.data?.companies.edges.map((e: { node: { name: string } }) => e.node.name), ['Gq Echo', 'Gq Charlie']);
  const inList = await gql(LIST, { filter: { ...filter, name: { in: ['Gq Alpha', 'Gq Echo'] } }, sort: [{ field: 'name' }] });
  t.same(inList.data?.companies.edges.map((e: { node: { name: string } }) => e.node.name), ['Gq Alpha', 'Gq Echo']);

  const q = await gql(LIST, { q: 'CHARL' });
  t.same(q.data?.companies.edges.map((e: { node: { name: string } }) => e.node.name), ['Gq Charlie']);

  const count = await gql('query($f: CompanyFilter, $q: String) { companiesCount(filter: $f, q: $q) }', { f: { ...filter, employees: { isNull: false } } });
  t.equal(count.data?.companiesCount, 3);
  const countQ = await gql('query($q: String) { companiesCount(q: $q) }', { q: 'gq e' });
  t.equal(countQ.data?.companiesCount, 1, 'q applies to the count');

  const other = await gql(LIST, { filter, sort: [{ field: 'employees' }], first: 2, after: (await gql(LIST, { filter, first: 2 })).data?.companies.pageInfo.endCursor });
  t.same(other.codes, ['validation_failed'], 'a cursor of another sort is refused');
});

t.test('first: 500 and bad filter values are validation_failed', async (t) => {
  const big = await gql(LIST, { first: 500 });
  t.same(big.codes, ['validation_failed']);
  t.match(big.errors[0]?.extensions.errors, [{ path: 'limit' }]);
  const zero = await gql(LIST, { first: 0 });
  t.same(zero.codes, ['validation_failed']);
  const date = await gql(LIST, { filter: { createdAt: { gt: 'last week' } } });
  t.same(date.codes, ['validation_failed']);
  const cursor = await gql(LIST, { after: 'garbage' });
  t.same(cursor.codes, ['validation_failed']);
  t.match(cursor.errors[0]?.extensions.errors, [{ path: 'cursor' }]);
});

t.test('updateCompany: merge semantics, expectedVersion, version_conflict with the current record', async (t) => {
  const c = await create({ name: 'Upd Graph', industry: 'oil', address: { city: 'Riyadh', country: 'SA' } });
  const ok = await gql(UPDATE, { id: c.id, input: { industry: null, address: { city: 'Dammam' } }, v: 1 });
  t.same(ok.errors, []);
  t.match(ok.data?.updateCompany, { version: 2, industry: null, name: 'Upd Graph', address: { city: 'Dammam', country: 'SA' } });

  const stale = await gql(UPDATE, { id: c.id, input: { name: 'Too Late' }, v: 1 });
  t.same(stale.codes, ['version_conflict']);
  t.equal(stale.errors[0]?.extensions.status, 412);
  t.match(stale.errors[0]?.extensions.current, { id: c.id, version: 2, name: 'Upd Graph' });

  const none = await gql(UPDATE, { id: c.id, input: { name: 'Upd Graph' } });
  t.equal(none.data?.updateCompany.version, 2, 'a no-op keeps the version');

  const missing = await gql(UPDATE, { id: randomUUID(), input: { name: 'Nobody' } });
  t.same(missing.codes, ['not_found']);
  const invalid = await gql(UPDATE, { id: c.id, input: { currency: 'XXXX' } });
  t.same(invalid.codes, ['validation_failed']);
  t.match(invalid.errors[0]?.extensions.errors, [{ path: 'currency' }]);
});

t.test('deleteCompany and restoreCompany', async (t) => {
  const c = await create({ name: 'Del Graph' });
  const del = await gql('mutation($id: ID!) { deleteCompany(id: $id) }', { id: c.id });
  t.equal(del.data?.deleteCompany, true);
  const gone = await gql('query($id: ID!) { company(id: $id) { id } }', { id: c.id });
  t.same(gone.codes, ['not_found']);
  t.equal(gone.data?.company, null);
  const shown = await gql('query($id: ID!) { company(id: $id, includeDeleted: true) { id deletedAt } }', { id: c.id });
  t.match(shown.data?.company, { id: c.id, deletedAt: /Z$/ });

  const bySales = await gql('mutation($id: ID!) { restoreCompany(id: $id) { id } }', { id: c.id }, h.user('sales'));
  t.same(bySales.codes, ['forbidden']);
  const back = await gql('mutation($id: ID!) { restoreCompany(id: $id) { id deletedAt version } }', { id: c.id });
  t.match(back.data?.restoreCompany, { id: c.id, deletedAt: null, version: 3 });
  const again = await gql('mutation($id: ID!) { deleteCompany(id: $id) }', { id: randomUUID() });
  t.same(again.codes, ['not_found']);
});

t.test('upsertCompanies by domain: created, updated, unchanged, error', async (t) => {
  const M = `mutation($r: [JSON!]!) { upsertCompanies(idProperty: "domain", records: $r) { index id status error { code status errors { path } } } }`;
  const first = await gql(M, { r: [{ domain: 'gup.example', name: 'Gup' }, { domain: 'gup2.example', name: 'Gup Two', phone: 'bad' }] });
  t.match(first.data?.upsertCompanies, [{ index: 0, status: 'created' }, { index: 1, status: 'error', id: null, error: { code: 'validation_failed', status: 400, errors: [{ path: 'phone' }] } }]);
  const id = first.data?.upsertCompanies[0].id;
  const second = await gql(M, { r: [{ domain: 'GUP.example', name: 'Gup Renamed' }, { domain: 'gup.example', name: 'Gup Renamed' }] });
  t.match(second.data?.upsertCompanies, [{ status: 'updated', id }, { status: 'unchanged', id }]);
  const count = await gql('query { companiesCount(filter: { domain: { startsWith: "gup" } }) }');
  t.equal(count.data?.companiesCount, 1);
});

t.test('forbidden and not_found match REST', async (t) => {
  const viewer = h.user('viewer');
  const v = await gql(CREATE, { input: { name: 'Viewer Graph' } }, viewer);
  t.same(v.codes, ['forbidden']);
  t.equal(v.errors[0]?.extensions.status, 403);

  const c = await create({ name: 'Owned Graph', ownerId: randomUUID(), teamId: randomUUID() });
  const sales = h.user('sales');
  const s = await gql(UPDATE, { id: c.id, input: { name: 'Sales Graph' } }, sales);
  t.same(s.codes, ['forbidden']);
  const gift = await gql(CREATE, { input: { name: 'Gift Graph', ownerId: randomUUID() } }, sales);
  t.same(gift.codes, ['forbidden']);
  t.match(gift.errors[0]?.extensions.errors, [{ path: 'ownerId' }]);
  const read = await gql('query($id: ID!) { company(id: $id) { name } }', { id: c.id }, viewer);
  t.equal(read.data?.company.name, 'Owned Graph', 'a viewer reads');

  const nf = await gql('query($id: ID!) { company(id: $id) { id } }', { id: randomUUID() });
  t.same(nf.codes, ['not_found']);
  t.equal(nf.errors[0]?.extensions.status, 404);
  t.type(nf.errors[0]?.extensions.requestId, 'string');
});
