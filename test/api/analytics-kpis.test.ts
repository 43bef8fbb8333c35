import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestUser } from '../helpers/app.js';

// The KPI summary (docs/metrics.md "KPIs"): March 2026 against the 31 days before it (29 Jan – 1 Mar),
// hand-computed; sections per role; REST and GraphQL.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');

const call = (url: string, who: TestUser | null = admin) => h.request({ method: 'GET', url, headers: who ? who.auth : {} });
async function made(url: string, payload: object) {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload });
  if (res.statusCode >= 300) throw new Error(`POST ${url} failed: ${res.body}`);
  return res.json();
}

const p = await made('/v1/pipelines', { name: 'K', stages: [{ name: 'Q', probability: 10 }, { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' }] });
const [q, won, lost] = p.stages.map((s: { id: string }) => s.id) as [string, string, string];
async function deal(status: 'won' | 'lost', closed: string, amount?: string, currency?: string) {
  const d = await made('/v1/deals', { name: 'K', pipelineId: p.id, stageId: q, ...(amount ? { amount, currency } : {}) });
  await h.request({ method: 'PATCH', url: `/v1/deals/${d.id}`, headers: admin.auth, payload: { stageId: status === 'won' ? won : lost, ...(status === 'lost' ? { lostReason: 'x' } : {}) } });
  await db.execute(sql`UPDATE deals SET created_at = ${closed}::timestamptz - interval '4 days', closed_at = ${closed}::timestamptz WHERE id = ${d.id}`);
}
await deal('won', '2026-03-10T00:00:00Z', '100.00', 'SAR');
await deal('lost', '2026-03-11T00:00:00Z');
await deal('won', '2026-02-10T00:00:00Z', '50.00', 'SAR');
await deal('won', '2026-02-12T00:00:00Z', '1.000', 'KWD');

const contact = async () => (await made('/v1/contacts', { email: `${randomUUID().slice(0, 8)}@k.example` })).id as string;
const [c1, c2] = [await contact(), await contact()];
const order = (contactId: string, placedAt: string, total: string) => db.execute(sql`INSERT INTO orders (id, contact_id, status, total, currency, placed_at)
  VALUES (${randomUUID()}, ${contactId}, 'paid', ${total}::numeric, 'SAR', ${placedAt}::timestamptz)`);
await order(c1, '2026-02-10T00:00:00Z', '10.00');
await order(c1, '2026-03-05T00:00:00Z', '30.00');
await order(c2, '2026-03-06T00:00:00Z', '20.00');

const ticket = (created: string, responded: string) => db.execute(sql`INSERT INTO tickets (id, subject, requester_id, created_at, first_responded_at)
  VALUES (${randomUUID()}, 'T', ${c1}, ${created}::timestamptz, ${responded}::timestamptz)`);
await ticket('2026-03-02T00:00:00Z', '2026-03-02T00:20:00Z');
await ticket('2026-03-03T00:00:00Z', '2026-03-03T00:40:00Z');
await ticket('2026-02-02T00:00:00Z', '2026-02-02T01:00:00Z');

// campaigns: March spends 30.00 SAR, 2 delivered, 1 converted (30.00 per conversion); February 10.00 SAR,
// 4 delivered, 1 converted; a KWD campaign only in March, with no conversion (no cost per conversion)
async function campaign(createdAt: string, spend: string, currency: string, events: [string, string][]) {
  const c = await made('/v1/campaigns', { name: `K ${createdAt}`, channel: 'ads', spend, currency });
  if (events.length) await made(`/v1/campaigns/${c.id}/events`, { events: events.map(([type, contactId]) => ({ type, contactId })) });
  await db.execute(sql`UPDATE campaigns SET created_at = ${createdAt}::timestamptz WHERE id = ${c.id}`);
}
const [c3, c4] = [await contact(), await contact()];
await campaign('2026-03-02T00:00:00Z', '30.00', 'SAR', [['delivered', c1], ['delivered', c2], ['converted', c1]]);
await campaign('2026-03-03T00:00:00Z', '5.000', 'KWD', []);
await campaign('2026-02-02T00:00:00Z', '10.00', 'SAR', [['delivered', c1], ['delivered', c2], ['delivered', c3], ['delivered', c4], ['converted', c4]]);

const k = (value: number | null, previous: number | null, change: number | null) => ({ value, previous, change });

t.test('each figure against the previous period of equal length', async (t) => {
  const res = await call('/v1/analytics/kpis?from=2026-03-01&to=2026-03-31');
  t.equal(res.statusCode, 200, res.body);
  const body = res.json();
  t.match(body, { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', previousFrom: '2026-01-29T00:00:00.000Z', previousTo: '2026-03-01T00:00:00.000Z' });
  t.same(body.sales, {
    won: k(1, 2, -0.5), lost: k(1, 0, null), winRate: k(0.5, 1, -0.5), averageCycleDays: k(4, 4, 0),
    newLeads: k(0, 0, null), leadConversionRate: k(null, null, null),
    wonAmount: [{ currency: 'KWD', value: null, previous: '1.000', change: null }, { currency: 'SAR', value: '100.00', previous: '50.00', change: 1 }],
    averageDealSize: [{ currency: 'KWD', value: null, previous: '1.000', change: null }, { currency: 'SAR', value: '100.00', previous: '50.00', change: 1 }],
  });
  t.same(body.customers, {
    newCustomers: k(1, 1, 0), customers: k(2, 1, 1), repeatPurchaseRate: k(0, 0, null), churnRate: k(0, null, null), orders: k(2, 1, 1),
    revenue: [{ currency: 'SAR', value: '50.00', previous: '10.00', change: 4 }],
    averageOrderValue: [{ currency: 'SAR', value: '25.00', previous: '10.00', change: 1.5 }],
  });
  // no SLA policy anywhere: business minutes are calendar minutes
  t.match(body.service, {
    ticketsCreated: k(2, 1, 1), medianFirstResponseMinutes: k(30, 60, -0.5), medianFirstResponseBusinessMinutes: k(30, 60, -0.5),
    medianResolutionBusinessMinutes: k(null, null, null), firstResponseCompliance: k(null, null, null),
  });
  t.same(body.marketing, {
    campaigns: k(2, 1, 1), sent: k(0, 0, null), delivered: k(2, 4, -0.5), converted: k(1, 1, 0),
    deliveryRate: k(null, null, null), openRate: k(0, 0, null), clickRate: k(0, 0, null), conversionRate: k(0.5, 0.25, 1), unsubscribeRate: k(0, 0, null),
    spend: [{ currency: 'KWD', value: '5.000', previous: null, change: null }, { currency: 'SAR', value: '30.00', previous: '10.00', change: 2 }],
    revenue: [],
    costPerConversion: [{ currency: 'SAR', value: '30.00', previous: '10.00', change: 2 }],
  });
});

t.test('all time has no previous period', async (t) => {
  const body = (await call('/v1/analytics/kpis')).json();
  t.match(body, { from: null, to: null, previousFrom: null, previousTo: null });
  t.same(body.sales.won, k(3, null, null));
  t.same(body.customers.revenue, [{ currency: 'SAR', value: '60.00', previous: null, change: null }]);
});

t.test('sections follow the role; 401 without token', async (t) => {
  const support = (await call('/v1/analytics/kpis', h.user('support'))).json();
  t.same([support.sales, support.customers, support.marketing], [null, null, null]);
  t.same(support.service.ticketsCreated, k(3, null, null));
  const marketer = (await call('/v1/analytics/kpis', h.user('marketing'))).json();
  t.same([marketer.sales, marketer.customers, marketer.service], [null, null, null]);
  t.same(marketer.marketing.campaigns, k(3, null, null));
  t.equal((await call('/v1/analytics/kpis', h.user('sales'))).json().marketing, null);
  const rep = (await call('/v1/analytics/kpis?from=2026-03-01&to=2026-03-31', h.user('sales'))).json();
  t.same(rep.sales.won, k(0, 0, null)); // owns none of the deals
  t.same(rep.customers.customers, k(2, 1, 1)); // customers are read in full
  t.equal((await call('/v1/analytics/kpis', null)).statusCode, 401);
  t.equal((await call('/v1/analytics/kpis?timeZone=Nowhere')).statusCode, 400);
});

t.test('GraphQL', async (t) => {
  const res = await h.gql(admin, `{ analyticsKpis(from: "2026-03-01", to: "2026-03-31") {
    previousFrom sales { won { value previous change } wonAmount { currency value previous change } }
    customers { revenue { currency value previous change } churnRate { value } } } }`);
  t.equal(res.status, 200, JSON.stringify(res.body.errors));
  t.same(res.body.data?.analyticsKpis, {
    previousFrom: '2026-01-29T00:00:00.000Z',
    sales: { won: k(1, 2, -0.5), wonAmount: [{ currency: 'KWD', value: null, previous: '1.000', change: null }, { currency: 'SAR', value: '100.00', previous: '50.00', change: 1 }] },
    customers: { revenue: [{ currency: 'SAR', value: '50.00', previous: '10.00', change: 4 }], churnRate: { value: 0 } },
  });
  const marketing = await h.gql(h.user('marketing'), `{ analyticsKpis(from: "2026-03-01", to: "2026-03-31") { sales { won { value } } customers { orders { value } }
    service { csat { value } } marketing { conversionRate { value previous change } costPerConversion { currency value previous change } } } }`);
  t.same(marketing.body.data?.analyticsKpis, {
    sales: null, customers: null, service: null,
    marketing: { conversionRate: k(0.5, 0.25, 1), costPerConversion: [{ currency: 'SAR', value: '30.00', previous: '10.00', change: 2 }] },
  });
});
