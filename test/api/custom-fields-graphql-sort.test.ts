import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// GraphQL sorts reach custom fields as REST's sort=custom.<key> does: {custom: "tier"} in
// contacts(sort:) and companies(sort:), keyset paging over them, and the same validation errors.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

for (const entity of ['contact', 'company']) {
  for (const d of [
    { key: 'tier', type: 'select', options: ['gold', 'silver', 'bronze'] },
    { key: 'score', type: 'number' },
    { key: 'channels', type: 'multiselect', options: ['web', 'shop'] },
  ]) {
    const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity, label: d.key, ...d } });
    if (res.statusCode !== 201) throw new Error(res.body);
  }
}

const SEED = [
  { name: 'A', custom: { tier: 'gold', score: 10 } },
  { name: 'B', custom: { tier: 'silver', score: 2.5 } },
  { name: 'C', custom: { tier: 'gold', score: 7 } },
  { name: 'D', custom: { score: 100 } },
  { name: 'E', custom: { tier: 'bronze' } },
];
for (const s of SEED) {
  for (const [url, body] of [['/v1/companies', { name: s.name }], ['/v1/contacts', { firstName: s.name }]] as const) {
    const res = await h.request({ method: 'POST', url, headers: admin.auth, payload: { ...body, tags: ['gs'], custom: s.custom } });
    if (res.statusCode !== 201) throw new Error(res.body);
  }
}

type Sort = { field?: string; custom?: string; direction?: 'ASC' | 'DESC' };
const COMPANIES = `query($sort: [CompanySort!], $first: Int, $after: String) {
  companies(filter: { tags: { contains: "gs" } }, sort: $sort, first: $first, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
const CONTACTS = `query($sort: [ContactSort!], $first: Int, $after: String) {
  contacts(filter: { tags: { contains: "gs" } }, sort: $sort, first: $first, after: $after) { edges { node { name: firstName } } pageInfo { hasNextPage endCursor } } }`;

/** Walks every page of `first` rows and returns the names in order (cursors must round-trip). */
async function walk(query: string, root: 'companies' | 'contacts', sort: Sort[], first = 2): Promise<string[]> {
  const out: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await h.gql(admin, query, { sort, first, after });
    if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
    const conn = res.body.data?.[root];
    out.push(...conn.edges.map((e: { node: { name: string } }) => e.node.name));
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  return out;
}

async function rest(url: string, sort: string): Promise<string[]> {
  const res = await h.request({ method: 'GET', url, headers: admin.auth, query: { 'filter[tags][contains]': 'gs', sort, limit: '50' } });
  return res.json().data.map((r: { name?: string; firstName?: string }) => r.name ?? r.firstName);
}

t.test('companies(sort: {custom}) orders like REST sort=custom.<key>, paged', async (t) => {
  // ASC NULLS LAST, DESC NULLS FIRST (Postgres defaults); ties by id, i.e. creation order
  t.same(await walk(COMPANIES, 'companies', [{ custom: 'tier' }]), ['E', 'A', 'C', 'B', 'D']);
  t.same(await walk(COMPANIES, 'companies', [{ custom: 'score', direction: 'DESC' }]), ['E', 'D', 'A', 'C', 'B']);
  t.same(await walk(COMPANIES, 'companies', [{ custom: 'tier' }, { custom: 'score', direction: 'DESC' }], 1), ['E', 'A', 'C', 'B', 'D']);
  t.same(await walk(COMPANIES, 'companies', [{ custom: 'tier', direction: 'DESC' }, { field: 'name' }]), await rest('/v1/companies', '-custom.tier,name'));
});

t.test('contacts(sort: {custom}) too, mixed with static fields', async (t) => {
  t.same(await walk(CONTACTS, 'contacts', [{ custom: 'score' }]), ['B', 'C', 'A', 'D', 'E']);
  t.same(await walk(CONTACTS, 'contacts', [{ custom: 'score' }]), await rest('/v1/contacts', 'custom.score'));
  t.same(await walk(CONTACTS, 'contacts', [{ custom: 'tier', direction: 'DESC' }, { field: 'firstName', direction: 'DESC' }]), ['D', 'B', 'C', 'A', 'E']);
  t.same(await walk(CONTACTS, 'contacts', [{ field: 'firstName', direction: 'DESC' }]), ['E', 'D', 'C', 'B', 'A'], 'static sorts still work');
});

t.test('contacts filter by custom fields over GraphQL like companies', async (t) => {
  const res = await h.gql(admin, 'query($f: JSON) { contacts(filter: { custom: $f }) { edges { node { firstName } } } contactsCount(filter: { custom: $f }) }', { f: { tier: { eq: 'gold' } } });
  t.same(res.body.data?.contacts.edges.map((e: { node: { firstName: string } }) => e.node.firstName).sort(), ['A', 'C']);
  t.equal(res.body.data?.contactsCount, 2);
});

t.test('unknown or unsortable custom keys and malformed sorts → validation_failed, as REST', async (t) => {
  for (const [query, root] of [[COMPANIES, 'companies'], [CONTACTS, 'contacts']] as const) {
    for (const sort of [[{ custom: 'nope' }], [{ custom: 'channels' }], [{ custom: 'tier,name' }], [{ custom: 'tier' }, { custom: 'tier' }], [{ field: 'createdAt', custom: 'tier' }], [{}]] as Sort[][]) {
      const res = await h.gql(admin, query, { sort });
      t.equal(res.body.errors?.[0]?.extensions.code, 'validation_failed', `${root} ${JSON.stringify(sort)}`);
      t.match(res.body.errors?.[0]?.extensions.errors, [{ path: 'sort' }]);
      t.equal(res.body.data, null);
    }
    const restRes = await h.request({ method: 'GET', url: `/v1/${root}`, headers: admin.auth, query: { sort: 'custom.nope' } });
    t.match(restRes.json(), { code: 'validation_failed', errors: [{ path: 'sort', message: '"custom.nope" is not a sortable field' }] });
    const gqlRes = await h.gql(admin, query, { sort: [{ custom: 'nope' }] });
    t.same(gqlRes.body.errors?.[0]?.extensions.errors, restRes.json().errors, 'the same errors as REST');
  }
  const badCursor = await h.gql(admin, COMPANIES, { sort: [{ custom: 'score' }], after: (await h.gql(admin, COMPANIES, { sort: [{ custom: 'tier' }], first: 1 })).body.data?.companies.pageInfo.endCursor });
  t.equal(badCursor.body.errors?.[0]?.extensions.code, 'validation_failed', 'a cursor of another sort is refused');
  const viewer = await h.gql(h.user('viewer'), COMPANIES, { sort: [{ custom: 'tier' }] });
  t.equal(viewer.body.data?.companies.edges.length, 5, 'every role reads and sorts');
});
