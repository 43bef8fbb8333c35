import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { createModules } from '../../src/app.js';

// Marketing figures against a hand-computed fixture (docs/metrics.md "Marketing").

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const { marketing } = createModules({ config: h.config, db, signAccessToken: () => '' });
async function post(url: string, payload: unknown) {
  const r = await h.request({ method: 'POST', url, headers: admin.auth, payload: payload as object });
  if (r.statusCode >= 300) throw new Error(`${url} → ${r.statusCode} ${r.body}`);
  return r.json();
}
const get = (url: string, user = h.user('marketing')) => h.request({ method: 'GET', url, headers: user.auth });

const people = [];
for (let i = 1; i <= 5; i++) people.push((await post('/v1/contacts', { firstName: `C${i}`, email: `c${i}@mkt.test` })).id as string);
const [c1, c2, c3, c4, c5] = people as [string, string, string, string, string];
const a = await post('/v1/campaigns', { name: 'A', channel: 'ads', spend: '50.000', currency: 'KWD' });
await post('/v1/campaigns', { name: 'B', channel: 'event', spend: '30.00', currency: 'SAR' });
const ev = (type: string, contactId: string) => ({ type, contactId });
await post(`/v1/campaigns/${a.id}/events`, {
  events: [
    ev('delivered', c1), ev('delivered', c2), ev('delivered', c3), ev('delivered', c4), ev('bounced', c4),
    ev('opened', c1), ev('opened', c1), ev('opened', c2), ev('clicked', c1), ev('unsubscribed', c3),
  ],
});
// c1 clicked A, then ordered: A's conversion; c5 orders without any click: a new customer, no conversion
await post('/v1/orders', { contactId: c1, status: 'paid', total: '250.00', currency: 'SAR', externalId: 'mkt-1' });
await post('/v1/orders', { contactId: c5, status: 'paid', total: '80.00', currency: 'SAR', externalId: 'mkt-2' });
await marketing.services.attribute(db);

t.test('per campaign and in total, against the hand-computed figures', async (t) => {
  const r = await get('/v1/analytics/marketing/campaigns');
  t.equal(r.statusCode, 200, r.body);
  const body = r.json();
  const byName = Object.fromEntries(body.campaigns.map((c: { name: string }) => [c.name, c]));
  t.match(byName.A, {
    sent: 0, delivered: 3, opened: 2, clicked: 1, converted: 1, unsubscribed: 1, bounced: 1,
    deliveryRate: null, spend: { currency: 'KWD', amount: '50.000' }, costPerConversion: { currency: 'KWD', amount: '50.000' },
    revenue: [{ currency: 'SAR', amount: '250.00' }],
  });
  t.equal(byName.A.openRate, 2 / 3, 'opened / delivered: c4 bounced');
  t.equal(byName.A.clickRate, 1 / 3);
  t.equal(byName.A.conversionRate, 1 / 3);
  t.equal(byName.A.unsubscribeRate, 1 / 3);
  t.match(byName.B, { delivered: 0, openRate: null, costPerConversion: null, spend: { currency: 'SAR', amount: '30.00' }, revenue: [] });
  t.match(body.totals, {
    campaigns: 2, delivered: 3, opened: 2, converted: 1,
    costPerConversion: [{ currency: 'KWD', amount: '50.000' }], // B converted no one: no SAR cost
    spend: [{ currency: 'KWD', amount: '50.000' }, { currency: 'SAR', amount: '30.00' }],
    revenue: [{ currency: 'SAR', amount: '250.00' }],
  });
});

t.test('acquisition cost: spend per new customer, per currency, never summed across them', async (t) => {
  const r = (await get('/v1/analytics/customers/acquisition-cost')).json();
  t.equal(r.newCustomers, 2);
  t.same(r.spend, [{ currency: 'KWD', amount: '50.000' }, { currency: 'SAR', amount: '30.00' }]);
  t.same(r.costPerCustomer, [{ currency: 'KWD', amount: '25.000' }, { currency: 'SAR', amount: '15.00' }]);
});

t.test('no data in the range', async (t) => {
  const r = (await get('/v1/analytics/marketing/campaigns?from=2000-01-01&to=2000-01-31')).json();
  t.same(r.campaigns, []);
  t.match(r.totals, { campaigns: 0, sent: 0, delivered: 0, openRate: null, spend: [], revenue: [], costPerConversion: [] });
  const c = (await get('/v1/analytics/customers/acquisition-cost?from=2000-01-01&to=2000-01-31')).json();
  t.same({ n: c.newCustomers, spend: c.spend, cost: c.costPerCustomer }, { n: 0, spend: [], cost: [] });
});

t.test('roles and GraphQL', async (t) => {
  t.equal((await get('/v1/analytics/marketing/campaigns', h.user('sales'))).statusCode, 403);
  t.equal((await get('/v1/analytics/marketing/campaigns', h.user('support'))).statusCode, 403);
  t.equal((await get('/v1/analytics/customers/acquisition-cost', h.user('sales'))).statusCode, 200, 'a customers figure too');
  t.equal((await get('/v1/analytics/customers/acquisition-cost', h.user('support'))).statusCode, 403);
  const g = await h.gql(h.user('viewer'), '{ marketingCampaigns { totals { delivered converted spend { currency amount } } } customersAcquisitionCost { newCustomers costPerCustomer { currency amount } } }');
  t.equal(g.body.errors, undefined, JSON.stringify(g.body.errors));
  t.same(g.body.data, {
    marketingCampaigns: { totals: { delivered: 3, converted: 1, spend: [{ currency: 'KWD', amount: '50.000' }, { currency: 'SAR', amount: '30.00' }] } },
    customersAcquisitionCost: { newCustomers: 2, costPerCustomer: [{ currency: 'KWD', amount: '25.000' }, { currency: 'SAR', amount: '15.00' }] },
  });
  const refused = await h.gql(h.user('support'), '{ marketingCampaigns { totals { sent } } }');
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden');
  const bad = await get('/v1/analytics/marketing/campaigns?from=yesterday');
  t.equal(bad.statusCode, 400);
});
