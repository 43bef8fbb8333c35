import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { ROLES } from '../../src/platform/auth/actor.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { startTestApp } from '../helpers/app.js';

// The loyalty ledger (API.md §5 loyalty), REST and GraphQL: earning and redeeming, never below zero
// (also under 50 concurrent redemptions), earning once per order, paging, roles, audit and events.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

async function post(url: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload });
  if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}
const txn = (contactId: string, payload: Record<string, unknown>, who = admin) =>
  h.request({ method: 'POST', url: `/v1/contacts/${contactId}/loyalty/transactions`, headers: who.auth, payload });
const account = (contactId: string, query = '', who = admin) => h.request({ method: 'GET', url: `/v1/contacts/${contactId}/loyalty${query}`, headers: who.auth });

async function ledger(contactId: string): Promise<{ sum: number; balance: number; rows: number }> {
  const { rows } = await queryRows<{ sum: number; balance: number; rows: number }>(h.db.database.db, sql`
    SELECT coalesce(sum(points), 0)::int AS sum, count(*)::int AS rows,
           (SELECT balance FROM loyalty_balances WHERE contact_id = ${contactId}::uuid) AS balance
      FROM loyalty_transactions WHERE contact_id = ${contactId}::uuid`);
  return rows[0] as { sum: number; balance: number; rows: number };
}

const contact = await post('/v1/contacts', { firstName: 'Loyal', lastName: 'Customer' });
const other = await post('/v1/contacts', { firstName: 'Other', lastName: 'Customer' });

t.test('earn and redeem: 201 with the transaction and the balance after it', async (t) => {
  const before = await account(contact.id);
  t.same(before.json(), { contactId: contact.id, balance: 0, transactions: { data: [], nextCursor: null } }, 'an account with no ledger yet');
  const earn = await txn(contact.id, { points: 100, reason: 'signup bonus' });
  t.equal(earn.statusCode, 201);
  t.match(earn.json(), { id: String, contactId: contact.id, points: 100, reason: 'signup bonus', orderId: null, balanceAfter: 100, actorType: 'user', actorId: admin.id, createdAt: String });
  const redeem = await txn(contact.id, { points: -30, reason: 'voucher' }, h.user('sales'));
  t.equal(redeem.statusCode, 201, 'sales may write loyalty');
  t.equal(redeem.json().balanceAfter, 70);
  const over = await txn(contact.id, { points: -71, reason: 'too much' });
  t.equal(over.statusCode, 409);
  t.match(over.json(), { code: 'insufficient_points', status: 409, balance: 70 });
  const acc = (await account(contact.id)).json();
  t.equal(acc.balance, 70);
  t.same(acc.transactions.data.map((x: { points: number }) => x.points), [-30, 100], 'newest first');
  t.same(await ledger(contact.id), { sum: 70, balance: 70, rows: 2 }, 'the refused redemption left nothing');

  const { rows } = await queryRows<{ type: string }>(h.db.database.db, sql`SELECT type FROM events WHERE entity_id = ${earn.json().id}::uuid`);
  t.same(rows.map((r) => r.type), ['loyalty.transaction_created']);
  const { rows: audit } = await queryRows<{ action: string; entity_type: string }>(h.db.database.db, sql`SELECT action, entity_type FROM audit_logs WHERE entity_id = ${earn.json().id}::uuid`);
  t.same(audit, [{ action: 'create', entity_type: 'loyalty_transaction' }]);
});

t.test('validation: non-zero integer points, a reason, known fields; unknown contact 404', async (t) => {
  const paths = async (body: Record<string, unknown>) => {
    const res = await txn(contact.id, body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    return (res.json().errors as { path: string }[]).map((e) => e.path).sort();
  };
  t.same(await paths({ points: 0, reason: 'x' }), ['points']);
  t.same(await paths({ points: 1.5, reason: 'x' }), ['points']);
  t.same(await paths({ points: '5', reason: '' }), ['points', 'reason']);
  t.same(await paths({ points: 5, reason: 'x', balanceAfter: 5 }), ['balanceAfter']);
  t.same(await paths({ points: 5, reason: 'x', id: randomUUID() }), ['id']);
  t.equal((await txn(randomUUID(), { points: 5, reason: 'x' })).statusCode, 404);
  t.equal((await account(randomUUID())).statusCode, 404);
  const gone = await post('/v1/contacts', { firstName: 'Gone' });
  await h.request({ method: 'DELETE', url: `/v1/contacts/${gone.id}`, headers: admin.auth });
  t.equal((await txn(gone.id, { points: 5, reason: 'x' })).statusCode, 404, 'a deleted contact earns nothing');
  t.equal((await account(contact.id, '?limit=0')).statusCode, 400);
  t.equal((await account(contact.id, '?sort=points')).statusCode, 400);
  t.equal((await h.request({ method: 'DELETE', url: `/v1/contacts/${contact.id}/loyalty/transactions`, headers: admin.auth })).statusCode, 404, 'append-only: no delete');
});

t.test('earning for an order happens once; orderId must be an order of the contact', async (t) => {
  const c = await post('/v1/contacts', { firstName: 'Order', lastName: 'Earner' });
  const order = await post('/v1/orders', { contactId: c.id, status: 'paid', total: '50.00', currency: 'SAR' });
  const theirs = await post('/v1/orders', { contactId: other.id, total: '1.00', currency: 'SAR' });
  const first = await txn(c.id, { points: 50, reason: 'order earn', orderId: order.id });
  t.equal(first.statusCode, 201);
  const second = await txn(c.id, { points: 80, reason: 'retry', orderId: order.id });
  t.equal(second.statusCode, 200, 'a second earn for the order answers the first');
  t.same(second.json(), first.json());
  const retries = await Promise.all(Array.from({ length: 10 }, () => txn(c.id, { points: 50, reason: 'order earn', orderId: order.id })));
  t.ok(retries.every((r) => r.statusCode === 200 && r.json().id === first.json().id), 'concurrent retries too');
  const redeem = await txn(c.id, { points: -20, reason: 'spent on order', orderId: order.id });
  t.equal(redeem.statusCode, 201, 'redemptions tied to an order are not limited to one');
  t.equal((await txn(c.id, { points: -10, reason: 'again', orderId: order.id })).statusCode, 201);
  t.same(await ledger(c.id), { sum: 20, balance: 20, rows: 3 });
  const foreign = await txn(c.id, { points: 5, reason: 'x', orderId: theirs.id });
  t.equal(foreign.statusCode, 422);
  t.match(foreign.json(), { code: 'invalid_reference', errors: [{ path: 'orderId' }] });
  t.equal((await txn(c.id, { points: 5, reason: 'x', orderId: randomUUID() })).statusCode, 422);
});

t.test('50 concurrent redemptions of 10 on a balance of 200: 20 succeed, 30 get 409, never below 0', async (t) => {
  const c = await post('/v1/contacts', { firstName: 'Race', lastName: 'Redeemer' });
  t.equal((await txn(c.id, { points: 200, reason: 'stock' })).statusCode, 201);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => txn(c.id, { points: -10, reason: `redeem ${i}` })));
  const codes = results.map((r) => r.statusCode);
  t.equal(codes.filter((s) => s === 201).length, 20, 'twenty succeed');
  t.equal(codes.filter((s) => s === 409).length, 30, 'thirty are refused');
  t.ok(results.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'insufficient_points'));
  t.equal((await account(c.id)).json().balance, 0);
  t.same(await ledger(c.id), { sum: 0, balance: 0, rows: 21 }, 'the ledger sums to the balance');
  const after = results.filter((r) => r.statusCode === 201).map((r) => r.json().balanceAfter as number).sort((a, b) => a - b);
  t.same(after, Array.from({ length: 20 }, (_, i) => i * 10), 'each success saw the balance its predecessor left');
});

t.test('the ledger pages newest first with limit and cursor', async (t) => {
  const c = await post('/v1/contacts', { firstName: 'Page', lastName: 'Ledger' });
  for (let i = 1; i <= 5; i++) await txn(c.id, { points: i, reason: `earn ${i}` });
  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await account(c.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.statusCode, 200);
    const body = res.json();
    t.equal(body.balance, 15);
    seen.push(...body.transactions.data.map((x: { points: number }) => x.points));
    cursor = body.transactions.nextCursor;
    pages++;
  } while (cursor);
  t.same(seen, [5, 4, 3, 2, 1]);
  t.equal(pages, 3);
  t.equal((await account(c.id, '?cursor=broken')).statusCode, 400);
});

t.test('roles: all read; admin, manager and sales write; support, marketing, viewer 403; no token 401', async (t) => {
  for (const role of ROLES) {
    const who = h.user(role);
    t.equal((await account(contact.id, '', who)).statusCode, 200, `${role} reads`);
    t.equal((await txn(contact.id, { points: 1, reason: role }, who)).statusCode, ['admin', 'manager', 'sales'].includes(role) ? 201 : 403, `${role} writes`);
  }
  t.equal((await h.request({ method: 'GET', url: `/v1/contacts/${contact.id}/loyalty` })).statusCode, 401);
  t.equal((await h.request({ method: 'POST', url: `/v1/contacts/${contact.id}/loyalty/transactions`, payload: { points: 1, reason: 'x' } })).statusCode, 401);
});

t.test('GraphQL: loyalty(contactId) and createLoyaltyTransaction, same rules', async (t) => {
  const c = await post('/v1/contacts', { firstName: 'Graph', lastName: 'Loyal' });
  const CREATE = `mutation($c: ID!, $input: LoyaltyTransactionInput!) { createLoyaltyTransaction(contactId: $c, input: $input) { id points balanceAfter reason orderId } }`;
  const earn = await h.gql(admin, CREATE, { c: c.id, input: { points: 40, reason: 'gql earn' } });
  t.match(earn.body.data?.createLoyaltyTransaction, { points: 40, balanceAfter: 40, reason: 'gql earn', orderId: null });
  const over = await h.gql(admin, CREATE, { c: c.id, input: { points: -41, reason: 'too much' } });
  t.same(over.body.errors?.map((e) => e.extensions.code), ['insufficient_points']);
  const viewer = await h.gql(h.user('viewer'), CREATE, { c: c.id, input: { points: 1, reason: 'no' } });
  t.same(viewer.body.errors?.map((e) => e.extensions.code), ['forbidden']);
  const zero = await h.gql(admin, CREATE, { c: c.id, input: { points: 0, reason: 'zero' } });
  t.match(zero.body.errors?.[0]?.extensions, { code: 'validation_failed', errors: [{ path: 'points' }] });
  await h.gql(admin, CREATE, { c: c.id, input: { points: -15, reason: 'spend' } });
  const READ = `query($c: ID!, $first: Int, $after: String) { loyalty(contactId: $c, first: $first, after: $after) {
    contactId balance transactions { edges { cursor node { points balanceAfter } } pageInfo { hasNextPage endCursor } } } }`;
  const page1 = (await h.gql(h.user('marketing'), READ, { c: c.id, first: 1 })).body.data?.loyalty;
  t.match(page1, { contactId: c.id, balance: 25, transactions: { edges: [{ node: { points: -15, balanceAfter: 25 } }], pageInfo: { hasNextPage: true } } });
  const page2 = (await h.gql(admin, READ, { c: c.id, first: 1, after: page1.transactions.pageInfo.endCursor })).body.data?.loyalty;
  t.match(page2.transactions, { edges: [{ node: { points: 40 } }], pageInfo: { hasNextPage: false } });
  const missing = await h.gql(admin, READ, { c: randomUUID() });
  t.same(missing.body.errors?.map((e) => e.extensions.code), ['not_found']);
  const contacts = await h.gql(admin, `query($ids: [ID!]) { contacts(filter: { id: { in: $ids } }) { edges { node { id loyaltyBalance } } } }`, { ids: [c.id, other.id] });
  const balances = Object.fromEntries(contacts.body.data?.contacts.edges.map((e: { node: { id: string; loyaltyBalance: number } }) => [e.node.id, e.node.loyaltyBalance]));
  t.same(balances, { [c.id]: 25, [other.id]: 0 }, 'Contact.loyaltyBalance through a loader; 0 without a ledger');
});
