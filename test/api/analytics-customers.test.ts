import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestUser } from '../helpers/app.js';

// Customer figures against hand-computed fixtures (docs/metrics.md "Customers"): orders written with
// SQL in January–April 2026, SAR and KWD, paid and fulfilled orders counted, pending, cancelled and
// deleted ones not; a cohort without repeat; a late-evening order that changes month in Asia/Riyadh.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');

const call = (url: string, who: TestUser | null = admin) => h.request({ method: 'GET', url, headers: who ? who.auth : {} });
const get = async (url: string, who: TestUser = admin) => {
  const res = await call(url, who);
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};
async function contact() {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { email: `${randomUUID().slice(0, 8)}@c.example` } });
  return res.json().id as string;
}
async function order(contactId: string, placedAt: string, total: string, currency: string, status = 'paid', deleted = false) {
  await db.execute(sql`INSERT INTO orders (id, contact_id, status, total, currency, placed_at, deleted_at)
    VALUES (${randomUUID()}, ${contactId}, ${status}, ${total}::numeric, ${currency}, ${placedAt}::timestamptz, ${deleted ? sql`now()` : sql`NULL`})`);
}

const [c1, c2, c3, c4, c5, c6] = [await contact(), await contact(), await contact(), await contact(), await contact(), await contact()] as string[] as [string, string, string, string, string, string];
await order(c1, '2026-01-10T10:00:00Z', '100.00', 'SAR');
await order(c1, '2026-02-15T10:00:00Z', '200.00', 'SAR');
await order(c1, '2026-03-20T10:00:00Z', '300.00', 'SAR', 'fulfilled');
await order(c1, '2026-01-11T10:00:00Z', '5000.00', 'SAR', 'paid', true); // deleted
await order(c2, '2026-01-20T10:00:00Z', '50.00', 'SAR');
await order(c3, '2026-02-05T10:00:00Z', '10.000', 'KWD');
await order(c3, '2026-02-25T10:00:00Z', '5.500', 'KWD');
await order(c4, '2026-02-10T10:00:00Z', '400.00', 'SAR', 'fulfilled');
await order(c4, '2026-04-01T10:00:00Z', '10.00', 'SAR');
await order(c5, '2026-03-31T22:30:00Z', '70.00', 'SAR'); // 1 April, 01:30 in Riyadh
await order(c6, '2026-01-05T10:00:00Z', '999.00', 'SAR', 'pending');
await order(c6, '2026-02-01T10:00:00Z', '999.00', 'SAR', 'cancelled');
await order(c6, '2026-02-02T10:00:00Z', '999.00', 'SAR', 'refunded');

const JAN_APR = 'from=2026-01-01&to=2026-04-30';
const m = (month: number, customers: number, rate: number) => ({ month, customers, rate });

t.test('retention: monthly cohorts by first order, a cohort without repeat, the time zone moves a cohort', async (t) => {
  const r = await get('/v1/analytics/customers/retention');
  t.same(r.cohorts, [
    { cohort: '2026-01', customers: 2, months: [m(0, 2, 1), m(1, 1, 0.5), m(2, 1, 0.5), m(3, 0, 0)] },
    { cohort: '2026-02', customers: 2, months: [m(0, 2, 1), m(1, 0, 0), m(2, 1, 0.5)] },
    { cohort: '2026-03', customers: 1, months: [m(0, 1, 1), m(1, 0, 0)] },
  ]);
  const riyadh = await get('/v1/analytics/customers/retention?timeZone=Asia/Riyadh&from=2026-03-01');
  t.same(riyadh.cohorts, [{ cohort: '2026-04', customers: 1, months: [m(0, 1, 1)] }]);
  const feb = await get('/v1/analytics/customers/retention?from=2026-02-01&to=2026-02-28');
  t.same(feb.cohorts.map((c: { cohort: string }) => c.cohort), ['2026-02']);
  t.same((await get('/v1/analytics/customers/retention?to=2025-12-31')).cohorts, []);
});

t.test('churn: ordered in the previous period, not in this one', async (t) => {
  // March against the 31 days before it (29 Jan – 1 Mar): c1, c3, c4 ordered; only c1 orders in March
  const march = await get('/v1/analytics/customers/churn?from=2026-03-01&to=2026-03-31');
  t.match(march, { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', previousFrom: '2026-01-29T00:00:00.000Z', customersAtStart: 3, churned: 2 });
  t.equal(march.churnRate, 2 / 3);

  const monthly = await get('/v1/analytics/customers/churn?from=2026-02-01&to=2026-04-30&interval=month');
  t.same(monthly.series, [
    { period: '2026-02-01', customersAtStart: 2, churned: 1, churnRate: 0.5 },
    { period: '2026-03-01', customersAtStart: 3, churned: 2, churnRate: 2 / 3 },
    { period: '2026-04-01', customersAtStart: 2, churned: 2, churnRate: 1 }, // c1 and c5 ordered in March; only c4 in April
  ]);
  t.match(monthly, { customersAtStart: 2, churned: 1, churnRate: 0.5 }); // Feb–Apr against the 89 days before: c1 stays, c2 left
  // all time: nothing before the first order, so no churn to speak of
  t.match(await get('/v1/analytics/customers/churn'), { from: '2026-01-10T10:00:00.000Z', customersAtStart: 0, churned: 0, churnRate: null });
});

t.test('repeat purchase rate, order value and new customers', async (t) => {
  t.match(await get('/v1/analytics/customers/repeat-purchase'), { customers: 5, repeatCustomers: 3, repeatRate: 0.6 });
  const feb = await get('/v1/analytics/customers/repeat-purchase?from=2026-02-01&to=2026-02-28');
  t.match(feb, { customers: 3, repeatCustomers: 1 });
  t.equal(feb.repeatRate, 1 / 3);
  t.match(await get('/v1/analytics/customers/repeat-purchase?to=2025-01-01'), { customers: 0, repeatCustomers: 0, repeatRate: null });

  const aov = await get(`/v1/analytics/customers/order-value?${JAN_APR}&interval=month`);
  t.same(aov.byCurrency, [
    { currency: 'KWD', orders: 2, revenue: '15.500', averageOrderValue: '7.750' },
    { currency: 'SAR', orders: 7, revenue: '1130.00', averageOrderValue: '161.43' },
  ]);
  t.same(aov.series, [
    { period: '2026-01-01', byCurrency: [{ currency: 'SAR', orders: 2, revenue: '150.00', averageOrderValue: '75.00' }] },
    { period: '2026-02-01', byCurrency: [{ currency: 'KWD', orders: 2, revenue: '15.500', averageOrderValue: '7.750' }, { currency: 'SAR', orders: 2, revenue: '600.00', averageOrderValue: '300.00' }] },
    { period: '2026-03-01', byCurrency: [{ currency: 'SAR', orders: 2, revenue: '370.00', averageOrderValue: '185.00' }] },
    { period: '2026-04-01', byCurrency: [{ currency: 'SAR', orders: 1, revenue: '10.00', averageOrderValue: '10.00' }] },
  ]);

  const fresh = await get(`/v1/analytics/customers/new?${JAN_APR}&interval=month`);
  t.equal(fresh.newCustomers, 5);
  t.same(fresh.series.map((b: { newCustomers: number }) => b.newCustomers), [2, 2, 1, 0]);
  t.same((await get('/v1/analytics/customers/new?to=2025-01-01')).newCustomers, 0);
});

t.test('lifetime value: historical and predicted per currency', async (t) => {
  const ltv = await get('/v1/analytics/customers/lifetime-value?from=2026-01-01&to=2026-12-31&lifespanYears=2');
  t.match(ltv, { lifespanYears: 2, windowDays: 365 });
  // SAR: 1130.00 / 4 customers = 282.50; × 365.25 / 365 × 2 years = 565.39; frequency 7 / 4 / (365 / 365.25)
  t.same(ltv.byCurrency, [
    { currency: 'KWD', customers: 1, orders: 2, revenue: '15.500', averageOrderValue: '7.750', purchaseFrequency: 2.0014, historicalValue: '15.500', predictedValue: '31.021' },
    { currency: 'SAR', customers: 4, orders: 7, revenue: '1130.00', averageOrderValue: '161.43', purchaseFrequency: 1.7512, historicalValue: '282.50', predictedValue: '565.39' },
  ]);
  t.match(await get('/v1/analytics/customers/lifetime-value?to=2025-01-01'), { lifespanYears: 3, windowDays: null, byCurrency: [] });
  t.equal((await call('/v1/analytics/customers/lifetime-value?lifespanYears=0')).statusCode, 400);
});

t.test('RFM: quintile scores per currency and segments', async (t) => {
  const seg = (o: Record<string, number>) => ['champions', 'loyal', 'new_customers', 'potential_loyalists', 'at_risk', 'hibernating', 'lost']
    .map((segment) => ({ segment, customers: o[segment] ?? 0 }));
  const r = await get('/v1/analytics/customers/rfm');
  // SAR scores (R, F, M): c1 (3, 5, 5) loyal; c2 (2, 3, 2) at risk; c4 (5, 4, 4) champion; c5 (4, 3, 3) loyal
  t.same(r.byCurrency, [
    { currency: 'KWD', customers: 1, segments: seg({ champions: 1 }) },
    { currency: 'SAR', customers: 4, segments: seg({ champions: 1, loyal: 2, at_risk: 1 }) },
  ]);
  t.same((await get('/v1/analytics/customers/rfm?currency=KWD')).byCurrency.map((c: { currency: string }) => c.currency), ['KWD']);
  t.same((await get('/v1/analytics/customers/rfm?to=2025-01-01')).byCurrency, []);
  t.equal((await call('/v1/analytics/customers/rfm?currency=XYZ')).statusCode, 400);
});

t.test('roles: sales reads all customers, support and marketing are refused, 401 without token', async (t) => {
  const sales = h.user('sales', { teamIds: [randomUUID()] });
  t.match(await get('/v1/analytics/customers/repeat-purchase', sales), { customers: 5, repeatCustomers: 3 });
  t.match(await get('/v1/analytics/customers/repeat-purchase', h.user('viewer')), { customers: 5 });
  for (const role of ['support', 'marketing'] as const) {
    const res = await call('/v1/analytics/customers/rfm', h.user(role));
    t.equal(res.statusCode, 403, role);
    t.equal(res.json().code, 'forbidden');
  }
  t.equal((await call('/v1/analytics/customers/retention', null)).statusCode, 401);
});

t.test('GraphQL: the same figures and errors', async (t) => {
  const res = await h.gql(admin, `{
    customersRetention { cohorts { cohort customers months { month customers rate } } }
    customersChurn(from: "2026-03-01", to: "2026-03-31") { customersAtStart churned churnRate previousFrom }
    customersRepeatPurchase { customers repeatCustomers repeatRate }
    customersOrderValue(from: "2026-01-01", to: "2026-04-30", interval: month) { byCurrency { currency orders revenue averageOrderValue } series { period } }
    customersNew(interval: quarter) { newCustomers series { period newCustomers } }
    customersLifetimeValue(from: "2026-01-01", to: "2026-12-31", lifespanYears: 2) { windowDays byCurrency { currency predictedValue } }
    customersRfm(currency: "SAR") { byCurrency { currency customers segments { segment customers } } }
  }`);
  t.equal(res.status, 200, JSON.stringify(res.body.errors));
  const d = res.body.data as Record<string, any>;
  t.equal(d.customersRetention.cohorts.length, 3);
  t.match(d.customersChurn, { customersAtStart: 3, churned: 2, previousFrom: '2026-01-29T00:00:00.000Z' });
  t.same(d.customersRepeatPurchase, { customers: 5, repeatCustomers: 3, repeatRate: 0.6 });
  t.same(d.customersOrderValue.byCurrency[1], { currency: 'SAR', orders: 7, revenue: '1130.00', averageOrderValue: '161.43' });
  t.equal(d.customersOrderValue.series.length, 4);
  t.same(d.customersNew, { newCustomers: 5, series: [{ period: '2026-01-01', newCustomers: 5 }] }); // buckets span the data when from/to are absent
  t.same(d.customersLifetimeValue.byCurrency.map((r: { predictedValue: string }) => r.predictedValue), ['31.021', '565.39']);
  t.equal(d.customersRfm.byCurrency[0].segments[0].customers, 1);

  const refused = await h.gql(h.user('marketing'), '{ customersRfm { byCurrency { currency } } }');
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden');
  const bad = await h.gql(admin, '{ customersChurn(interval: week, from: "2026-13-01") { churned } }');
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.equal(bad.body.errors?.[0]?.extensions.errors?.[0]?.path, 'from');
});
