import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Segments: rules over contact fields, custom fields, tags and behaviour, in AND/OR groups, evaluated
// live; validated on save; REST and GraphQL; roles.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const marketer = h.user('marketing');
const post = (url: string, payload: unknown, user = marketer) => h.request({ method: 'POST', url, headers: user.auth, payload: payload as object });
const get = (url: string, user = marketer) => h.request({ method: 'GET', url, headers: user.auth });

await post('/v1/custom-fields', { entity: 'contact', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] }, admin);
const tag = `s${Date.now()}`;
async function contact(body: Record<string, unknown>): Promise<string> {
  const r = await post('/v1/contacts', { tags: [tag], ...body }, admin);
  if (r.statusCode !== 201) throw new Error(r.body);
  return r.json().id;
}
const gold = await contact({ firstName: 'Gold', custom: { tier: 'gold' } });
const buyer = await contact({ firstName: 'Buyer', custom: { tier: 'silver' } });
const promoter = await contact({ firstName: 'Promoter' });
const nobody = await contact({ firstName: 'Nobody' });
const order = (contactId: string, total: string, status = 'paid') =>
  post('/v1/orders', { contactId, status, total, currency: 'SAR', externalId: `${contactId}-${total}` }, admin);
await order(buyer, '300.00');
await order(buyer, '250.00');
await order(gold, '900.00', 'cancelled');
await post('/v1/feedback', { type: 'nps', score: 10, contactId: promoter }, admin);

const members = async (rules: unknown) => {
  const s = await post('/v1/segments', { name: 'probe', rules });
  if (s.statusCode !== 201) throw new Error(s.body);
  const list = (await get(`/v1/segments/${s.json().id}/contacts?limit=200`)).json();
  const count = (await get(`/v1/segments/${s.json().id}/count`)).json().count;
  return { ids: list.data.map((c: { id: string }) => c.id).sort(), count };
};
const sorted = (...ids: string[]) => [...ids].sort();

t.test('contact fields, custom fields and behaviour', async (t) => {
  t.same(await members({ filter: { tags: { eq: tag }, 'custom.tier': { eq: 'gold' } } }), { ids: [gold], count: 1 });
  t.same((await members({ filter: { tags: { eq: tag }, 'orders.count': { gte: 2 } } })).ids, [buyer], 'two counted orders; cancelled ones do not count');
  t.same((await members({ filter: { tags: { eq: tag }, 'orders.total.SAR': { gt: '500' } } })).ids, [buyer]);
  t.same((await members({ filter: { tags: { eq: tag }, 'nps.last': { gte: 9 } } })).ids, [promoter]);
  t.same((await members({ filter: { tags: { eq: tag }, 'orders.count': { gte: 1 } }, window: { lastDays: 30 } })).ids, [buyer], 'within the window');
  t.same((await members({ filter: { tags: { eq: tag }, 'orders.count': { gte: 1 } }, window: { to: '2000-01-01T00:00:00Z' } })).ids, [], 'none before 2000');
});

t.test('AND/OR groups', async (t) => {
  const r = await members({
    filter: { tags: { eq: tag } },
    or: [{ filter: { 'custom.tier': { eq: 'gold' } } }, { filter: { 'nps.last': { eq: 10 } } }],
  });
  t.same(r, { ids: sorted(gold, promoter), count: 2 });
  const nested = await members({ and: [{ filter: { tags: { eq: tag } } }, { or: [{ filter: { firstName: { eq: 'Nobody' } } }, { filter: { firstName: { eq: 'Buyer' } } }] }] });
  t.same(nested.ids, sorted(nobody, buyer));
});

t.test('rules are validated on save, naming the path', async (t) => {
  const bad = await post('/v1/segments', { name: 'bad', rules: { filter: { nope: { eq: 'x' } }, or: [{ filter: { 'orders.count': { gte: 'many' } } }] } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().errors, [{ path: 'rules.filter.nope' }, { path: 'rules.or.0.filter.orders.count.gte', message: 'must be an integer' }]);
  t.equal((await post('/v1/segments', { name: 'empty', rules: {} })).statusCode, 400, 'no condition at all');
  const deep = { and: [{ and: [{ and: [{ and: [{ filter: { firstName: { eq: 'x' } } }] }] }] }] };
  t.match((await post('/v1/segments', { name: 'deep', rules: deep })).json().errors, [{ message: /nest at most/ }]);
  const s = (await post('/v1/segments', { name: 'ok', rules: { filter: { tags: { eq: tag } } } })).json();
  const patch = await h.request({ method: 'PATCH', url: `/v1/segments/${s.id}`, headers: marketer.auth, payload: { rules: { filter: { 'custom.nope': { eq: 1 } } } } });
  t.equal(patch.statusCode, 400, 'a patch is checked too');
  t.equal((await get(`/v1/segments/${s.id}`)).json().version, 1, 'and changed nothing');
  const stale = await h.request({ method: 'PATCH', url: `/v1/segments/${s.id}`, headers: { ...marketer.auth, 'if-match': '"7"' }, payload: { name: 'x' } });
  t.equal(stale.statusCode, 412);
});

t.test('roles: marketing writes, sales reads, support is refused; deleted segments are 404', async (t) => {
  const s = (await post('/v1/segments', { name: 'roles', rules: { filter: { tags: { eq: tag } } } })).json();
  t.equal((await get(`/v1/segments/${s.id}/count`, h.user('sales'))).json().count, 4);
  t.equal((await post('/v1/segments', { name: 'x', rules: { filter: { tags: { eq: tag } } } }, h.user('sales'))).statusCode, 403);
  t.equal((await get('/v1/segments', h.user('support'))).statusCode, 403);
  t.equal((await h.request({ method: 'DELETE', url: `/v1/segments/${s.id}`, headers: marketer.auth })).statusCode, 204);
  t.equal((await get(`/v1/segments/${s.id}/contacts`)).statusCode, 404);
  t.equal((await post(`/v1/segments/${s.id}/restore`, {}, h.user('manager'))).statusCode, 200);
});

t.test('GraphQL: create, members and count through the same service', async (t) => {
  const created = await h.gql(marketer, `mutation($r: JSON!) { createSegment(input: {name: "gql", rules: $r}) { id rules } }`, { r: { filter: { tags: { eq: tag }, 'orders.count': { gte: 1 } } } });
  t.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const id = created.body.data?.createSegment.id;
  const q = await h.gql(marketer, `query($id: ID!) { segmentContacts(id: $id) { edges { node { id } } } segmentContactsCount(id: $id) }`, { id });
  t.same(q.body.data, { segmentContacts: { edges: [{ node: { id: buyer } }] }, segmentContactsCount: 1 });
  const bad = await h.gql(marketer, `mutation { createSegment(input: {name: "bad", rules: {filter: {nope: {eq: 1}}}}) { id } }`);
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.match(bad.body.errors?.[0]?.extensions.errors, [{ path: 'rules.filter.nope' }]);
  const support = await h.gql(h.user('support'), `{ segments { edges { node { id } } } }`);
  t.equal(support.body.errors?.[0]?.extensions.code, 'forbidden');
});
