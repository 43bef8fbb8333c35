import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { ROLES } from '../../src/platform/auth/actor.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { startTestApp } from '../helpers/app.js';

// /v1/orders over REST (API.md §5 orders): money exact to the currency's minor unit, the lines-sum
// rule, CRUD with versions, batches with upsert by externalId under concurrency, roles, purchase
// history, the 360 figures and the timeline items.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const manager = h.user('manager');

async function post(url: string, payload: Record<string, unknown>, who = admin) {
  const res = await h.request({ method: 'POST', url, headers: who.auth, payload });
  if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}
const create = (payload: Record<string, unknown>, who = admin) => h.request({ method: 'POST', url: '/v1/orders', headers: who.auth, payload });
const get = (url: string, who = admin) => h.request({ method: 'GET', url, headers: who.auth });
const patch = (id: string, payload: unknown, headers: Record<string, string> = {}, who = admin) =>
  h.request({ method: 'PATCH', url: `/v1/orders/${id}`, headers: { ...who.auth, ...headers }, payload: payload as object });
const paths = (res: { json(): { errors?: { path: string }[] } }) => (res.json().errors ?? []).map((e) => e.path).sort();

const contact = await post('/v1/contacts', { firstName: 'Order', lastName: 'Buyer', email: 'order.buyer@example.com' });
const other = await post('/v1/contacts', { firstName: 'Other', lastName: 'Buyer' });

t.test('create: KWD to 3 decimals, lines in order, total = Σ quantity × unitPrice', async (t) => {
  const res = await create({
    externalId: 'ORD-KWD-1', contactId: contact.id, status: 'paid', total: '12.345', currency: 'KWD', placedAt: '2030-05-01T10:00:00+03:00',
    lines: [
      { sku: 'A', name: 'Dates', quantity: 2, unitPrice: '1.500' },
      { name: 'Coffee', quantity: 1.5, unitPrice: '6.230' },
      { sku: 'C', name: 'Cup', quantity: 1, unitPrice: '0' },
    ],
  });
  t.equal(res.statusCode, 201, res.body);
  const o = res.json();
  t.equal(res.headers.location, `/v1/orders/${o.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(o, { version: 1, externalId: 'ORD-KWD-1', contactId: contact.id, status: 'paid', total: '12.345', currency: 'KWD', placedAt: '2030-05-01T07:00:00.000Z', deletedAt: null });
  t.same(o.lines, [
    { sku: 'A', name: 'Dates', quantity: 2, unitPrice: '1.500' },
    { sku: null, name: 'Coffee', quantity: 1.5, unitPrice: '6.230' },
    { sku: 'C', name: 'Cup', quantity: 1, unitPrice: '0.000' },
  ]);
  t.same((await get(`/v1/orders/${o.id}`)).json(), o, 'read answers the stored record');
});

t.test('money: more decimals than the currency allows is 400 naming the path', async (t) => {
  const kwd = await create({ contactId: contact.id, total: '12.3456', currency: 'KWD' });
  t.equal(kwd.statusCode, 400);
  t.same(paths(kwd), ['total']);
  const line = await create({
    contactId: contact.id, total: '3.000', currency: 'KWD',
    lines: [{ name: 'a', quantity: 1, unitPrice: '1' }, { name: 'b', quantity: 1, unitPrice: '1' }, { name: 'c', quantity: 1, unitPrice: '1.0005' }],
  });
  t.equal(line.statusCode, 400);
  t.same(paths(line), ['lines.2.unitPrice']);
  t.equal((await create({ contactId: contact.id, total: '1500', currency: 'JPY' })).json().total, '1500', 'JPY has no decimals');
  const jpy = await create({ contactId: contact.id, total: '1500.5', currency: 'JPY' });
  t.equal(jpy.statusCode, 400);
  t.same(paths(jpy), ['total']);
  t.equal((await create({ contactId: contact.id, total: '1500.00', currency: 'JPY' })).statusCode, 201, 'trailing zeros are not decimals');
  t.equal((await create({ contactId: contact.id, total: '9.99', currency: 'USD' })).json().total, '9.99');
  const bhd = await create({ contactId: contact.id, total: '1.2345', currency: 'BHD' });
  t.same(paths(bhd), ['total'], 'BHD: 3 decimals');
  const neg = await create({ contactId: contact.id, total: '-1', currency: 'USD' });
  t.same(paths(neg), ['total']);
  const bad = await create({ contactId: contact.id, total: 12.5, currency: 'usd', status: 'shipped', lines: [{ name: 'x', quantity: 0, unitPrice: '1' }] });
  t.same(paths(bad), ['currency', 'lines.0.quantity', 'status', 'total'], 'a JSON number is not money; every bad field listed');
});

t.test('the total must equal the sum of the lines exactly', async (t) => {
  const res = await create({
    contactId: contact.id, total: '10.00', currency: 'SAR',
    lines: [{ name: 'a', quantity: 3, unitPrice: '3.33' }],
  });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'total', message: /9\.99/ }] });
  const ok = await create({ contactId: contact.id, total: '9.99', currency: 'SAR', lines: [{ name: 'a', quantity: 3, unitPrice: '3.33' }] });
  t.equal(ok.statusCode, 201);
  const discount = await create({
    contactId: contact.id, total: '8.00', currency: 'SAR',
    lines: [{ name: 'a', quantity: 2, unitPrice: '5.00' }, { name: 'discount', quantity: 1, unitPrice: '-2.00' }],
  });
  t.equal(discount.statusCode, 201, 'a negative unit price is a discount line');
  // patching the lines alone re-checks them against the stored total
  const o = ok.json();
  const p = await patch(o.id, { lines: [{ name: 'a', quantity: 2, unitPrice: '3.33' }] });
  t.equal(p.statusCode, 400);
  t.same(paths(p), ['total']);
  const both = await patch(o.id, { total: '6.66', lines: [{ name: 'a', quantity: 2, unitPrice: '3.33' }] });
  t.equal(both.statusCode, 200);
  t.same(both.json().lines, [{ sku: null, name: 'a', quantity: 2, unitPrice: '3.33' }], 'writing lines replaces them');
});

t.test('references, unknown and read-only fields', async (t) => {
  const missing = await create({ contactId: randomUUID(), total: '1', currency: 'USD' });
  t.equal(missing.statusCode, 422);
  t.match(missing.json(), { code: 'invalid_reference', errors: [{ path: 'contactId' }] });
  const gone = await post('/v1/contacts', { firstName: 'Gone' });
  await h.request({ method: 'DELETE', url: `/v1/contacts/${gone.id}`, headers: admin.auth });
  t.equal((await create({ contactId: gone.id, total: '1', currency: 'USD' })).statusCode, 422, 'a deleted contact is no reference');
  const unknown = await create({ contactId: contact.id, total: '1', currency: 'USD', colour: 'red', version: 3 });
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json().errors, [{ path: 'colour', message: 'is not a known field' }, { path: 'version', message: 'is read-only' }]);
  t.equal((await create({ total: '1', currency: 'USD' })).statusCode, 400, 'contactId is required');
  const dup = await create({ externalId: 'ORD-KWD-1', contactId: contact.id, total: '1', currency: 'USD' });
  t.equal(dup.statusCode, 409, 'externalId is unique among live orders');
  t.match(dup.json(), { code: 'conflict', errors: [{ path: 'externalId' }] });
});

t.test('PATCH: merge patch, versions, If-Match 412, delete and restore', async (t) => {
  const o = (await create({ externalId: `P-${randomUUID()}`, contactId: contact.id, total: '5.000', currency: 'KWD' })).json();
  const res = await patch(o.id, { status: 'paid' }, { 'if-match': '"1"' });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { status: 'paid', version: 2, total: '5.000', externalId: o.externalId });
  t.equal(res.headers.etag, '"2"');
  const same = await patch(o.id, { total: '5' });
  t.equal(same.json().version, 2, 'an equal value changes nothing');
  const stale = await patch(o.id, { status: 'fulfilled' }, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { id: o.id, version: 2, status: 'paid' } });
  t.equal((await patch(o.id, { id: randomUUID() })).statusCode, 400, 'id is read-only');
  t.equal((await patch(o.id, { contactId: randomUUID() })).statusCode, 422);
  const moved = await patch(o.id, { contactId: other.id, currency: 'JPY', total: '5' });
  t.match(moved.json(), { contactId: other.id, currency: 'JPY', total: '5' });
  const toKwd = await patch(o.id, { currency: 'USD' });
  t.equal(toKwd.statusCode, 200);
  t.equal(toKwd.json().total, '5.00');

  t.equal((await h.request({ method: 'DELETE', url: `/v1/orders/${o.id}`, headers: manager.auth })).statusCode, 204);
  t.equal((await get(`/v1/orders/${o.id}`)).statusCode, 404);
  t.match((await get(`/v1/orders/${o.id}?includeDeleted=true`)).json(), { id: o.id, deletedAt: String });
  t.equal((await get(`/v1/orders/${o.id}?includeDeleted=true`, h.user('sales'))).statusCode, 403, 'deleted records are for admin and manager');
  t.equal((await patch(o.id, { status: 'paid' })).statusCode, 404, 'a deleted order cannot be changed');
  t.equal((await h.request({ method: 'POST', url: `/v1/orders/${o.id}/restore`, headers: h.user('sales').auth })).statusCode, 403);
  const restored = await h.request({ method: 'POST', url: `/v1/orders/${o.id}/restore`, headers: admin.auth });
  t.equal(restored.statusCode, 200);
  t.match(restored.json(), { id: o.id, deletedAt: null });

  // every write is audited and emitted, in the same transaction
  const { rows: audit } = await queryRows<{ action: string }>(h.db.database.db, sql`SELECT action FROM audit_logs WHERE entity_type = 'order' AND entity_id = ${o.id}::uuid ORDER BY occurred_at, id`);
  t.same(audit.map((r) => r.action), ['create', 'update', 'update', 'update', 'delete', 'restore']);
  const { rows: events } = await queryRows<{ type: string }>(h.db.database.db, sql`SELECT type FROM events WHERE entity_id = ${o.id}::uuid ORDER BY id`);
  t.same(events.map((r) => r.type), ['order.created', 'order.updated', 'order.updated', 'order.updated', 'order.deleted', 'order.restored']);
});

t.test('list: filters, sorts, keyset pages, fields, count', async (t) => {
  const buyer = await post('/v1/contacts', { firstName: 'List', lastName: 'Buyer' });
  const made: { id: string; total: string }[] = [];
  for (let i = 0; i < 5; i++) {
    made.push(await post('/v1/orders', {
      contactId: buyer.id, externalId: `L-${i}-${randomUUID()}`, status: i % 2 ? 'paid' : 'cancelled', total: `${i + 1}0.50`, currency: 'EUR',
      placedAt: `2031-01-0${i + 1}T00:00:00.000Z`, lines: [{ name: `item ${i}`, quantity: 1, unitPrice: `${i + 1}0.50` }],
    }));
  }
  const all = (await get(`/v1/orders?filter[contactId][eq]=${buyer.id}`)).json();
  t.same(all.data.map((o: { id: string }) => o.id), made.map((o) => o.id).reverse(), 'newest placed first by default');
  t.ok(all.data.every((o: { lines: unknown[] }) => o.lines.length === 1), 'each order carries its lines');
  const paid = (await get(`/v1/orders?filter[contactId][eq]=${buyer.id}&filter[status][eq]=paid&sort=total`)).json();
  t.same(paid.data.map((o: { total: string }) => o.total), ['20.50', '40.50']);
  const big = (await get(`/v1/orders?filter[contactId][eq]=${buyer.id}&filter[total][gte]=30.5&filter[currency][eq]=EUR`)).json();
  t.equal(big.data.length, 3);
  const ext = (await get(`/v1/orders?filter[externalId][startsWith]=L-2-`)).json();
  t.same(ext.data.map((o: { id: string }) => o.id), [made[2]?.id]);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: { id: string }[]; nextCursor: string | null } = (await get(`/v1/orders?filter[contactId][eq]=${buyer.id}&sort=placedAt&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
    seen.push(...page.data.map((o: { id: string }) => o.id));
    cursor = page.nextCursor;
  } while (cursor);
  t.same(seen, made.map((o) => o.id), 'keyset pages: every order once, in order');
  const sparse = (await get(`/v1/orders?filter[contactId][eq]=${buyer.id}&fields=total&limit=1`)).json();
  t.same(Object.keys(sparse.data[0]).sort(), ['id', 'total']);
  t.same((await get(`/v1/orders/count?filter[contactId][eq]=${buyer.id}&filter[status][in]=paid,cancelled`)).json(), { count: 5 });
  t.equal((await get('/v1/orders?filter[colour][eq]=red')).statusCode, 400);
  t.equal((await get('/v1/orders?sort=lines')).statusCode, 400);
  t.equal((await get('/v1/orders?filter[status][eq]=shipped')).statusCode, 400);

  const history = (await get(`/v1/contacts/${buyer.id}/orders?filter[status][eq]=paid`)).json();
  t.equal(history.data.length, 2, 'purchase history filters like the list');
  t.ok(history.data.every((o: { contactId: string }) => o.contactId === buyer.id));
  t.equal((await get(`/v1/contacts/${randomUUID()}/orders`)).statusCode, 404, 'an unknown contact');
});

t.test('roles: everyone reads; only admin and manager write; no token 401', async (t) => {
  const o = (await create({ contactId: contact.id, total: '1.00', currency: 'USD' })).json();
  for (const role of ROLES) {
    const who = h.user(role);
    t.equal((await get(`/v1/orders/${o.id}`, who)).statusCode, 200, `${role} reads`);
    t.equal((await get(`/v1/contacts/${contact.id}/orders`, who)).statusCode, 200, `${role} reads purchase history`);
    const write = await create({ contactId: contact.id, total: '1.00', currency: 'USD' }, who);
    t.equal(write.statusCode, ['admin', 'manager'].includes(role) ? 201 : 403, `${role} creates`);
    if (role === 'viewer' || role === 'support' || role === 'sales') {
      t.equal((await patch(o.id, { status: 'paid' }, {}, who)).statusCode, 403, `${role} may not change`);
      t.equal((await h.request({ method: 'DELETE', url: `/v1/orders/${o.id}`, headers: who.auth })).statusCode, 403);
      t.equal((await h.request({ method: 'POST', url: '/v1/orders/batch', headers: who.auth, payload: { operation: 'create', records: [{}] } })).statusCode, 403);
    }
  }
  t.equal((await h.request({ method: 'GET', url: '/v1/orders' })).statusCode, 401);
  t.equal((await h.request({ method: 'POST', url: '/v1/orders', payload: { contactId: contact.id, total: '1', currency: 'USD' } })).statusCode, 401);
});

t.test('batch: per-record results, upsert and delete by externalId, atomic', async (t) => {
  const batch = (body: Record<string, unknown>) => h.request({ method: 'POST', url: '/v1/orders/batch', headers: admin.auth, payload: body });
  const key = `B-${randomUUID()}`;
  const first = await batch({
    operation: 'upsert', idProperty: 'externalId',
    records: [
      { externalId: key, contactId: contact.id, total: '2.500', currency: 'KWD', lines: [{ name: 'x', quantity: 1, unitPrice: '2.5' }] },
      { externalId: `${key}-bad`, contactId: contact.id, total: '2.5005', currency: 'KWD' },
      { contactId: contact.id, total: '1', currency: 'KWD' },
    ],
  });
  t.equal(first.statusCode, 200);
  const r = first.json().results;
  t.match(r, [{ index: 0, status: 'created' }, { index: 1, status: 'error', error: { code: 'validation_failed', errors: [{ path: 'total' }] } }, { index: 2, status: 'error', error: { errors: [{ path: 'externalId' }] } }]);
  const again = (await batch({ operation: 'upsert', idProperty: 'externalId', records: [{ externalId: key, contactId: contact.id, total: '2.5', currency: 'KWD', lines: [{ name: 'x', quantity: 1, unitPrice: '2.500' }] }] })).json();
  t.match(again.results, [{ id: r[0].id, status: 'unchanged' }]);
  const upd = (await batch({ operation: 'update', idProperty: 'externalId', records: [{ externalId: key, status: 'fulfilled' }] })).json();
  t.match(upd.results, [{ id: r[0].id, status: 'updated' }]);
  t.equal((await get(`/v1/orders/${r[0].id}`)).json().status, 'fulfilled');
  const atomic = await batch({ operation: 'create', atomic: true, records: [{ contactId: contact.id, total: '1', currency: 'USD', externalId: `${key}-a` }, { contactId: contact.id }] });
  t.equal(atomic.statusCode, 400);
  t.equal((await get(`/v1/orders/count?filter[externalId][eq]=${key}-a`)).json().count, 0, 'atomic: nothing written');
  const del = (await batch({ operation: 'delete', idProperty: 'externalId', records: [{ externalId: key }, { externalId: 'nope' }] })).json();
  t.match(del.results, [{ id: r[0].id, status: 'deleted' }, { status: 'error', error: { code: 'not_found' } }]);
  t.equal((await batch({ operation: 'upsert', idProperty: 'email', records: [{}] })).statusCode, 400, 'idProperty is id or externalId');
  // after a delete the externalId is free again: an upsert makes a new order
  const reborn = (await batch({ operation: 'upsert', idProperty: 'externalId', records: [{ externalId: key, contactId: contact.id, total: '1', currency: 'KWD' }] })).json();
  t.equal(reborn.results[0].status, 'created');
  t.not(reborn.results[0].id, r[0].id);
});

t.test('30 concurrent upserts of one externalId make exactly one order', async (t) => {
  const key = `RACE-${randomUUID()}`;
  const calls = Array.from({ length: 30 }, (_, i) => h.request({
    method: 'POST', url: '/v1/orders/batch', headers: admin.auth,
    payload: { operation: 'upsert', idProperty: 'externalId', records: [{ externalId: key, contactId: contact.id, status: 'paid', total: `${10 + (i % 3)}.000`, currency: 'KWD' }] },
  }));
  const results = (await Promise.all(calls)).map((res) => res.json().results[0] as { id: string; status: string });
  t.ok(results.every((r) => r.status !== 'error'), JSON.stringify(results.filter((r) => r.status === 'error')));
  t.equal(results.filter((r) => r.status === 'created').length, 1, 'one created, the rest matched it');
  t.equal(new Set(results.map((r) => r.id)).size, 1, 'all answer the same order');
  t.same((await get(`/v1/orders/count?filter[externalId][eq]=${key}`)).json(), { count: 1 });
  const { rows } = await queryRows<{ n: number }>(h.db.database.db, sql`SELECT count(*)::int AS n FROM orders WHERE external_id = ${key}`);
  t.equal(rows[0]?.n, 1, 'one row in the table, deleted or not');
});

t.test('360: orders, lifetimeValue and loyaltyBalance; timeline items of kind order', async (t) => {
  const c = await post('/v1/contacts', { firstName: 'Three', lastName: 'Sixty' });
  const empty = (await get(`/v1/contacts/${c.id}/360`)).json();
  t.same({ orders: empty.orders, lifetimeValue: empty.lifetimeValue, loyaltyBalance: empty.loyaltyBalance }, {
    orders: { count: 0, total: {}, lastPlacedAt: null }, lifetimeValue: {}, loyaltyBalance: 0,
  }, 'zeros, not absent, once the module is there');
  const mk = (status: string, total: string, currency: string, placedAt: string, externalId?: string) =>
    post('/v1/orders', { contactId: c.id, status, total, currency, placedAt, ...(externalId ? { externalId } : {}) });
  const big = await post('/v1/orders', {
    contactId: c.id, status: 'paid', total: '125.500', currency: 'KWD', placedAt: '2032-01-01T00:00:00.000Z', externalId: `8812-${c.id.slice(0, 4)}`,
    lines: [{ sku: 'P1', name: 'Perfume', quantity: 2, unitPrice: '62.75' }],
  });
  await mk('fulfilled', '10.25', 'KWD', '2032-01-02T00:00:00.000Z');
  await mk('pending', '1500', 'JPY', '2032-01-03T00:00:00.000Z');
  await mk('cancelled', '99', 'KWD', '2032-02-01T00:00:00.000Z');
  await mk('refunded', '5', 'USD', '2032-02-02T00:00:00.000Z');
  const deleted = await mk('paid', '1000', 'KWD', '2032-03-01T00:00:00.000Z');
  await h.request({ method: 'DELETE', url: `/v1/orders/${deleted.id}`, headers: admin.auth });
  await post(`/v1/contacts/${c.id}/loyalty/transactions`, { points: 70, reason: 'welcome' });

  const v = (await get(`/v1/contacts/${c.id}/360`, h.user('viewer'))).json();
  t.same(v.orders, { count: 3, total: { JPY: '1500', KWD: '135.750' }, lastPlacedAt: '2032-01-03T00:00:00.000Z' }, 'cancelled, refunded and deleted excluded');
  t.same(v.lifetimeValue, { KWD: '135.750' }, 'paid and fulfilled only');
  t.equal(v.loyaltyBalance, 70);

  const items = (await get(`/v1/contacts/${c.id}/timeline?limit=200`, h.user('support'))).json().data as { type: string; entityId: string; summary: string; occurredAt: string; data: Record<string, unknown> }[];
  const orderItems = items.filter((i) => i.type === 'order');
  t.equal(orderItems.length, 5, 'every live order, cancelled ones too: they were placed');
  t.match(orderItems.find((i) => i.entityId === big.id), {
    entityType: 'order', occurredAt: '2032-01-01T00:00:00.000Z', summary: `Order ${big.externalId} placed: 125.500 KWD (paid)`,
    data: { id: big.id, total: '125.500', currency: 'KWD', status: 'paid', lines: [{ sku: 'P1', name: 'Perfume', quantity: 2, unitPrice: '62.750' }] },
  });
  t.notOk(items.some((i) => i.entityId === deleted.id), 'a deleted order is not on the timeline');
  const paged: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: { type: string; entityId: string }[]; nextCursor: string | null } = (await get(`/v1/contacts/${c.id}/timeline?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
    paged.push(...page.data.filter((i: { type: string }) => i.type === 'order').map((i: { entityId: string }) => i.entityId));
    cursor = page.nextCursor;
  } while (cursor);
  t.same(paged, orderItems.map((i) => i.entityId), 'order items page through the timeline cursor');
});
