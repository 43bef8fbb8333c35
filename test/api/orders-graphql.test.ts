import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { countStatements } from '../helpers/statements.js';
import { createTestDatabase } from '../helpers/database.js';

// Orders over POST /graphql: same service, rules and error codes as REST; Contact.orders through a
// loader (statements counted at the driver, as in query-count.test.ts); contact360 and the timeline.

const db = await createTestDatabase();
// the custom-field definitions lookup (a 2 s cache) may refill in any run: it is not counted
const counted = countStatements(db.database, { ignore: (text) => text.includes('custom_field') });
const h = await startTestApp({ db });
t.teardown(async () => {
  await h.close();
  await db.close();
});
const admin = h.user('admin');

async function gql(query: string, variables?: Record<string, unknown>, who: ReturnType<typeof h.user> = admin) {
  const res = await h.gql(who, query, variables);
  const errors = res.body.errors ?? [];
  return { status: res.status, data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}
async function restContact(body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: body });
  return res.json() as { id: string };
}

const FIELDS = 'id version externalId contactId status total currency placedAt deletedAt lines { sku name quantity unitPrice }';
const CREATE = `mutation($input: OrderCreateInput!) { createOrder(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: OrderPatchInput!, $v: Int) { updateOrder(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const contact = await restContact({ firstName: 'Graph', lastName: 'Buyer' });

async function create(input: Record<string, unknown>) {
  const r = await gql(CREATE, { input });
  if (!r.data?.createOrder) throw new Error(JSON.stringify(r.errors));
  return r.data.createOrder;
}

t.test('createOrder, order(id), updateOrder with versions, delete and restore', async (t) => {
  const o = await create({
    externalId: 'G-1', contactId: contact.id, status: 'paid', total: '12.345', currency: 'KWD',
    lines: [{ sku: 'S', name: 'Saffron', quantity: 3, unitPrice: '4.115' }],
  });
  t.match(o, { version: 1, externalId: 'G-1', total: '12.345', currency: 'KWD', status: 'paid', lines: [{ sku: 'S', name: 'Saffron', quantity: 3, unitPrice: '4.115' }] });
  const one = await gql(`query($id: ID!) { order(id: $id) { ${FIELDS} } }`, { id: o.id });
  t.same(one.data?.order, o);
  const rest = await h.request({ method: 'GET', url: `/v1/orders/${o.id}`, headers: admin.auth });
  t.match(rest.json(), { id: o.id, total: '12.345' }, 'REST sees the same record');

  const up = await gql(UPDATE, { id: o.id, input: { status: 'fulfilled' }, v: 1 });
  t.match(up.data?.updateOrder, { status: 'fulfilled', version: 2 });
  const stale = await gql(UPDATE, { id: o.id, input: { status: 'refunded' }, v: 1 });
  t.same(stale.codes, ['version_conflict']);
  t.match(stale.errors[0]?.extensions, { status: 412, current: { version: 2 } });
  t.same((await gql('mutation($id: ID!) { deleteOrder(id: $id) }', { id: o.id })).data, { deleteOrder: true });
  t.same((await gql(`query($id: ID!) { order(id: $id) { id } }`, { id: o.id })).codes, ['not_found']);
  const back = await gql('mutation($id: ID!) { restoreOrder(id: $id) { id deletedAt } }', { id: o.id });
  t.same(back.data?.restoreOrder, { id: o.id, deletedAt: null });
});

t.test('validation: minor units by path, lines sum, Decimal never a number, references', async (t) => {
  const paths = (r: Awaited<ReturnType<typeof gql>>) => (r.errors[0]?.extensions.errors ?? []).map((e) => e.path).sort();
  const kwd = await gql(CREATE, { input: { contactId: contact.id, total: '12.3456', currency: 'KWD' } });
  t.same(kwd.codes, ['validation_failed']);
  t.same(paths(kwd), ['total']);
  const jpy = await gql(CREATE, { input: { contactId: contact.id, total: '1500.5', currency: 'JPY' } });
  t.same(paths(jpy), ['total']);
  t.equal((await create({ contactId: contact.id, total: '1500', currency: 'JPY' })).total, '1500');
  const line = await gql(CREATE, { input: { contactId: contact.id, total: '2', currency: 'JPY', lines: [{ name: 'a', quantity: 1, unitPrice: '1' }, { name: 'b', quantity: 1, unitPrice: '1.5' }] } });
  t.same(paths(line), ['lines.1.unitPrice']);
  const sum = await gql(CREATE, { input: { contactId: contact.id, total: '3', currency: 'JPY', lines: [{ name: 'a', quantity: 2, unitPrice: '1' }] } });
  t.same(paths(sum), ['total']);
  const number = await gql(CREATE, { input: { contactId: contact.id, total: 12.5, currency: 'USD' } });
  t.same(number.codes, ['validation_failed'], 'a JSON number is not a Decimal');
  const ref = await gql(CREATE, { input: { contactId: randomUUID(), total: '1', currency: 'USD' } });
  t.same(ref.codes, ['invalid_reference']);
});

t.test('roles: viewer, support and sales may not write; everyone reads; no token', async (t) => {
  const o = await create({ contactId: contact.id, total: '1.00', currency: 'USD' });
  for (const role of ['viewer', 'support', 'sales', 'marketing'] as const) {
    const who = h.user(role);
    t.same((await gql(CREATE, { input: { contactId: contact.id, total: '1', currency: 'USD' } }, who)).codes, ['forbidden'], `${role} create`);
    t.same((await gql(UPDATE, { id: o.id, input: { status: 'paid' } }, who)).codes, ['forbidden'], `${role} update`);
    t.same((await gql(`query($id: ID!) { order(id: $id) { id } }`, { id: o.id }, who)).data?.order, { id: o.id }, `${role} reads`);
  }
  const anon = await h.gql(undefined, `query { ordersCount }`);
  t.same(anon.body.errors?.map((e) => e.extensions.code), ['unauthenticated']);
});

t.test('orders(filter, sort, first, after), ordersCount, batchOrders', async (t) => {
  const c = await restContact({ firstName: 'List', lastName: 'Graph' });
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await create({ contactId: c.id, total: `${i + 1}.00`, currency: 'USD', status: i ? 'paid' : 'pending', placedAt: `2033-01-0${i + 1}T00:00:00.000Z` }));
  const LIST = `query($filter: OrderFilter, $sort: [OrderSort!], $first: Int, $after: String) { orders(filter: $filter, sort: $sort, first: $first, after: $after) {
    edges { cursor node { id total } } pageInfo { hasNextPage endCursor } } }`;
  const first = await gql(LIST, { filter: { contactId: { eq: c.id } }, sort: [{ field: 'total', direction: 'DESC' }], first: 2 });
  t.same(first.data?.orders.edges.map((e: { node: { total: string } }) => e.node.total), ['3.00', '2.00']);
  t.equal(first.data?.orders.pageInfo.hasNextPage, true);
  const next = await gql(LIST, { filter: { contactId: { eq: c.id } }, sort: [{ field: 'total', direction: 'DESC' }], first: 2, after: first.data?.orders.pageInfo.endCursor });
  t.same(next.data?.orders.edges.map((e: { node: { total: string } }) => e.node.total), ['1.00']);
  const paid = await gql(`query($c: ID!) { ordersCount(filter: { contactId: { eq: $c }, status: { in: [paid] } }) }`, { c: c.id });
  t.equal(paid.data?.ordersCount, 2);
  const key = `GB-${randomUUID()}`;
  const BATCH = `mutation($records: [JSON!]!) { batchOrders(operation: upsert, idProperty: "externalId", records: $records) { index id status error { code errors { path } } } }`;
  const b1 = await gql(BATCH, { records: [{ externalId: key, contactId: c.id, total: '7', currency: 'USD' }, { externalId: `${key}-x`, contactId: c.id, total: '7.001', currency: 'USD' }] });
  t.match(b1.data?.batchOrders, [{ status: 'created' }, { status: 'error', error: { code: 'validation_failed', errors: [{ path: 'total' }] } }]);
  const b2 = await gql(BATCH, { records: [{ externalId: key, contactId: c.id, total: '8', currency: 'USD' }] });
  t.match(b2.data?.batchOrders, [{ id: b1.data?.batchOrders[0].id, status: 'updated' }]);
  const badKey = await gql(`mutation { batchOrders(operation: upsert, idProperty: "email", records: [{}]) { status } }`);
  t.same(badKey.codes, ['validation_failed']);
});

t.test('Contact.orders and Contact.loyaltyBalance: one statement each, whatever the number of contacts', async (t) => {
  const tag = `og-${randomUUID().slice(0, 8)}`;
  for (let i = 0; i < 6; i++) {
    const c = await restContact({ firstName: `Loader ${i}`, tags: [tag] });
    for (let j = 0; j < 3; j++) {
      await create({ contactId: c.id, total: '2.00', currency: 'EUR', placedAt: `2034-0${j + 1}-01T00:00:00.000Z`, lines: [{ name: 'x', quantity: 2, unitPrice: '1' }] });
    }
  }
  const Q = `query($tag: String, $first: Int) { contacts(first: $first, filter: { tags: { eq: $tag } }) {
    edges { node { id orders(first: 2) { id placedAt lines { name quantity } } loyaltyBalance } } } }`;
  await counted(() => h.gql(admin, Q, { tag, first: 1 }));
  const small = await counted(() => h.gql(admin, Q, { tag, first: 2 }));
  const large = await counted(() => h.gql(admin, Q, { tag, first: 6 }));
  t.same(large.result.body.errors, undefined);
  const edges = large.result.body.data?.contacts.edges as { node: { orders: { placedAt: string; lines: unknown[] }[]; loyaltyBalance: number } }[];
  t.equal(edges.length, 6);
  t.ok(edges.every((e) => e.node.orders.length === 2 && e.node.loyaltyBalance === 0), 'first: 2 orders per contact');
  t.same(edges[0]?.node.orders.map((o) => o.placedAt), ['2034-03-01T00:00:00.000Z', '2034-02-01T00:00:00.000Z'], 'newest placed first');
  t.same(edges[0]?.node.orders[0]?.lines, [{ name: 'x', quantity: 2 }]);
  t.equal(large.statements, small.statements, `6 contacts: ${large.statements} statements, 2 contacts: ${small.statements}`);
  t.equal(large.statements, 3, 'contacts, their orders with lines, their balances');
  const tooMany = await gql(`query($tag: String) { contacts(filter: { tags: { eq: $tag } }) { edges { node { orders(first: 500) { id } } } } }`, { tag });
  t.ok(tooMany.codes.includes('validation_failed'), 'first over 200 is refused');
});

t.test('contact360 and contactTimeline carry orders, lifetimeValue, loyaltyBalance and order items', async (t) => {
  const c = await restContact({ firstName: 'Three', lastName: 'Sixty' });
  const paid = await create({ contactId: c.id, status: 'paid', total: '125.500', currency: 'KWD', externalId: `8812-${c.id.slice(0, 6)}`, placedAt: '2035-01-01T00:00:00.000Z' });
  await create({ contactId: c.id, status: 'pending', total: '20', currency: 'USD', placedAt: '2035-01-02T00:00:00.000Z' });
  await create({ contactId: c.id, status: 'refunded', total: '1', currency: 'KWD', placedAt: '2035-02-01T00:00:00.000Z' });
  await h.request({ method: 'POST', url: `/v1/contacts/${c.id}/loyalty/transactions`, headers: admin.auth, payload: { points: 12, reason: 'earn', orderId: paid.id } });
  const view = await gql(`query($id: ID!) { contact360(id: $id) { orders { count total lastPlacedAt } lifetimeValue loyaltyBalance } }`, { id: c.id }, h.user('viewer'));
  t.same(view.errors, []);
  t.same(view.data?.contact360, {
    orders: { count: 2, total: { KWD: '125.500', USD: '20.00' }, lastPlacedAt: '2035-01-02T00:00:00.000Z' },
    lifetimeValue: { KWD: '125.500' },
    loyaltyBalance: 12,
  });
  const tl = await gql(`query($id: ID!) { contactTimeline(id: $id) { edges { node { type entityType entityId summary data } } } }`, { id: c.id });
  const items = tl.data?.contactTimeline.edges.map((e: { node: unknown }) => e.node) as { type: string; entityId: string; summary: string }[];
  const orders = items.filter((i) => i.type === 'order');
  t.same(orders.map((i) => i.summary), [
    `Order ${orders[0]?.entityId} placed: 1.000 KWD (refunded)`,
    `Order ${orders[1]?.entityId} placed: 20.00 USD (pending)`,
    `Order ${paid.externalId} placed: 125.500 KWD (paid)`,
  ], 'newest first; named by externalId, else by id');
  t.match(items.find((i) => i.entityId === paid.id), { type: 'order', entityType: 'order', data: { total: '125.500', status: 'paid' } });
});
