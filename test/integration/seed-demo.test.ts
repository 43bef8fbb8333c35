import t from 'tap';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/platform/db/execute.js';
import { toE164 } from '../../src/platform/http/phone.js';
import { SeedRefused, seedDemo } from '../../src/seed/seed.js';
import { scaleFor } from '../../src/seed/scale.js';
import type { Executor } from '../../src/platform/db/client.js';
import { createTestDatabase } from '../helpers/database.js';
import { startTestApp } from '../helpers/app.js';

// seed:demo's generator on a real database: what it writes is what the API serves (counts, search
// across Arabic letter forms, deals in their pipelines' stages, KWD with 3 decimals, tickets with
// comments, the printed logins), and the same seed gives the same rows.

const scale = scaleFor(300);
const until = new Date('2026-11-01T00:00:00Z');
const first = await createTestDatabase();
const second = await createTestDatabase();
t.teardown(() => second.close());
const seeded = await seedDemo(first.database, { scale, seed: 42, until });
const h = await startTestApp({ db: first });
t.teardown(async () => {
  await h.close();
  await first.close();
});

const rowsOf = async <T>(db: Executor, q: ReturnType<typeof sql>) => (await queryRows<T>(db, q)).rows;

async function login(role: string) {
  const account = seeded.logins.find((l) => l.role === role)!;
  const res = await h.request({ method: 'POST', url: '/v1/auth/login', payload: { email: account.email, password: account.password } });
  t.equal(res.statusCode, 200, `the printed ${role} login signs in`);
  return { authorization: `Bearer ${res.json().accessToken as string}` };
}

const admin = await login('admin');
const get = async (url: string, headers = admin) => {
  const res = await h.request({ method: 'GET', url, headers });
  t.equal(res.statusCode, 200, url);
  return res.json();
};

t.test('accounts of every role, created through the identity service', async (t) => {
  t.same(new Set(seeded.logins.map((l) => l.role)), new Set(['admin', 'manager', 'sales', 'support', 'marketing', 'viewer']));
  const hashes = await rowsOf<{ password_hash: string }>(h.db.database.db, sql`SELECT password_hash FROM users WHERE email LIKE '%@crm.example'`);
  t.equal(hashes.length, seeded.logins.length);
  t.ok(hashes.every((r) => r.password_hash.startsWith('$argon2id$')), 'passwords are Argon2id hashes');
});

t.test('the API counts and lists the seeded records', async (t) => {
  t.equal((await get('/v1/contacts/count')).count, scale.contacts);
  t.equal((await get('/v1/companies/count')).count, scale.companies);
  t.equal((await get('/v1/deals/count')).count, scale.deals);
  t.equal((await get('/v1/orders/count')).count, scale.orders);
  t.equal((await get('/v1/tickets/count')).count, scale.tickets);
  const page = await get('/v1/contacts?limit=5&sort=-createdAt');
  t.equal(page.data.length, 5);
  t.ok(page.nextCursor, 'more pages follow');
});

t.test('search finds an Arabic name written without its hamza or taa marbuta', async (t) => {
  const [row] = await rowsOf<{ id: string; first_name: string; last_name: string }>(h.db.database.db,
    sql`SELECT id, first_name, last_name FROM contacts WHERE first_name ~ '[أإآة]' ORDER BY id LIMIT 1`);
  t.ok(row, 'an Arabic name with hamza or taa marbuta was generated');
  const plain = `${row!.first_name} ${row!.last_name}`.replace(/[أإآ]/g, 'ا').replace(/ة/g, 'ه');
  t.not(plain, `${row!.first_name} ${row!.last_name}`);
  const found = await get(`/v1/contacts?q=${encodeURIComponent(plain)}&limit=200`);
  t.ok(found.data.some((c: { id: string }) => c.id === row!.id), `"${plain}" finds ${row!.first_name} ${row!.last_name}`);
});

t.test('deals sit in their pipeline\'s stages, with the status of the stage\'s kind and positions from 0', async (t) => {
  const pipelines = (await get('/v1/pipelines')).data as { id: string; stages: { id: string; kind: string }[] }[];
  t.equal(pipelines.length, 2);
  for (const p of pipelines) {
    const deals = (await get(`/v1/deals?filter[pipelineId][eq]=${p.id}&limit=200`)).data as { stageId: string; status: string; amount: string; currency: string }[];
    t.ok(deals.length > 0, 'the pipeline has deals');
    for (const d of deals) {
      const stage = p.stages.find((s) => s.id === d.stageId);
      t.ok(stage, 'the deal\'s stage is one of its pipeline\'s');
      if (stage?.kind !== d.status) t.fail(`deal in a ${stage?.kind} stage has status ${d.status}`);
    }
  }
  const gaps = await rowsOf<{ n: number }>(h.db.database.db,
    sql`SELECT count(*)::int AS n FROM (SELECT stage_id, max(position) AS top, count(*) AS c FROM deals GROUP BY stage_id) s WHERE top <> c - 1`);
  t.equal(gaps[0]!.n, 0, 'positions in each stage run 0..n-1');
});

t.test('money has the currency\'s minor units: KWD three decimals, lines adding up to the total', async (t) => {
  const kwd = (await get('/v1/orders?filter[currency][eq]=KWD&limit=50')).data as { id: string; total: string }[];
  t.ok(kwd.length > 0, 'some orders are in KWD');
  t.ok(kwd.every((o) => /^\d+\.\d{3}$/.test(o.total)), 'KWD totals have 3 decimals');
  const order = await get(`/v1/orders/${kwd[0]!.id}`);
  const sum = (order.lines as { quantity: string; unitPrice: string }[])
    .reduce((s, l) => s + Number(l.quantity) * Math.round(Number(l.unitPrice) * 1000), 0);
  t.equal(sum, Math.round(Number(order.total) * 1000), 'the total is the sum of the lines');
  const currencies = await rowsOf<{ currency: string }>(h.db.database.db, sql`SELECT DISTINCT currency FROM orders ORDER BY 1`);
  t.same(currencies.map((c) => c.currency), ['AED', 'EUR', 'KWD', 'SAR', 'USD']);
});

t.test('phones are E.164 as the service would store them; emails are lower-case and unique', async (t) => {
  const rows = await rowsOf<{ phone: string; email: string }>(h.db.database.db, sql`SELECT phone, email FROM contacts`);
  const bad = rows.filter((r) => { const e = toE164(r.phone, 'SA'); return !('ok' in e) || e.ok !== r.phone; });
  t.same(bad, [], 'every phone is valid and already normalised');
  t.ok(rows.some((r) => r.phone.startsWith('+966')) && rows.some((r) => /^\+(49|44|33|34|39|31)/.test(r.phone)), 'Gulf and European numbers');
  t.equal(new Set(rows.map((r) => r.email)).size, rows.length);
  t.ok(rows.every((r) => r.email === r.email.toLowerCase()));
});

t.test('tickets have comments, a contact\'s 360 view and GraphQL answer', async (t) => {
  const [ticket] = await rowsOf<{ ticket_id: string }>(h.db.database.db, sql`SELECT ticket_id FROM ticket_comments ORDER BY ticket_id LIMIT 1`);
  const comments = await get(`/v1/tickets/${ticket!.ticket_id}/comments`);
  t.ok(comments.data.length > 0, 'the ticket has comments');
  const [buyer] = await rowsOf<{ contact_id: string }>(h.db.database.db, sql`SELECT contact_id FROM orders ORDER BY contact_id LIMIT 1`);
  const view = await get(`/v1/contacts/${buyer!.contact_id}/360`);
  t.ok(view.orders.count > 0, 'the 360 view counts the contact\'s orders');
  const gql = await h.request({ method: 'POST', url: '/graphql', headers: admin, payload: { query: `{ contact(id: "${buyer!.contact_id}") { id email } }` } });
  t.equal(gql.json().data.contact.id, buyer!.contact_id);
});

t.test('a sales user sees only the deals of their own teams', async (t) => {
  const sales = await login('sales');
  const mine = (await get('/v1/deals/count', sales)).count as number;
  t.ok(mine > 0 && mine < scale.deals, `${mine} of ${scale.deals} deals`);
});

t.test('a populated database is refused and left as it was', async (t) => {
  const refused = await seedDemo(first.database, { scale, seed: 42, until }).then(() => undefined, (e: unknown) => e);
  t.ok(refused instanceof SeedRefused, 'a second seed is refused');
  t.equal((await get('/v1/contacts/count')).count, scale.contacts);
});

t.test('the same seed gives the same rows', async (t) => {
  await seedDemo(second.database, { scale, seed: 42, until });
  const fingerprint = async (db: Executor) => (await rowsOf<Record<string, string>>(db, sql`SELECT
      (SELECT md5(string_agg(concat_ws('|', id, first_name, last_name, email, phone, search_text, company_id, created_at), ',' ORDER BY id)) FROM contacts) AS contacts,
      (SELECT md5(string_agg(concat_ws('|', id, name, stage_id, amount, currency, status, position), ',' ORDER BY id)) FROM deals) AS deals,
      (SELECT md5(string_agg(concat_ws('|', id, contact_id, total, currency, status, placed_at), ',' ORDER BY id)) FROM orders) AS orders,
      (SELECT md5(string_agg(concat_ws('|', id, subject, status, first_response_due_at, sla_breached), ',' ORDER BY id)) FROM tickets) AS tickets`))[0]!;
  const a = await fingerprint(first.database.db);
  t.same(await fingerprint(second.database.db), a);
  t.ok(Object.values(a).every(Boolean), 'every table was compared');
});
