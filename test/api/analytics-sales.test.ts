import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestUser } from '../helpers/app.js';

// Sales figures against hand-computed fixtures (docs/metrics.md "Sales"): closed deals moved into
// January–March 2026 with SQL, two currencies (SAR, KWD), two sales reps in two teams, a funnel
// pipeline built through the API, leads per source; REST and GraphQL, roles and scope.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');

const call = (url: string, who: TestUser | null = admin) => h.request({ method: 'GET', url, headers: who ? who.auth : {} });
async function made(method: 'POST' | 'PATCH', url: string, payload: object) {
  const res = await h.request({ method, url, headers: admin.auth, payload });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} failed: ${res.body}`);
  return res.json();
}
const get = async (url: string, who: TestUser = admin) => {
  const res = await call(url, who);
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};

const team1 = await made('POST', '/v1/teams', { name: `T1 ${randomUUID().slice(0, 6)}` });
const team2 = await made('POST', '/v1/teams', { name: `T2 ${randomUUID().slice(0, 6)}` });
const userA = await made('POST', '/v1/users', { email: `a-${randomUUID().slice(0, 8)}@s.example`, password: `pw-${randomUUID()}`, name: 'A', role: 'sales', teamIds: [team1.id] });
const userB = await made('POST', '/v1/users', { email: `b-${randomUUID().slice(0, 8)}@s.example`, password: `pw-${randomUUID()}`, name: 'B', role: 'sales', teamIds: [team2.id] });
const salesA = h.user('sales', { id: userA.id, teamIds: [team1.id] });
const A = { ownerId: userA.id, teamId: team1.id };
const B = { ownerId: userB.id, teamId: team2.id };

const p = await made('POST', '/v1/pipelines', {
  name: 'Closed P', stages: [{ name: 'Q', probability: 10 }, { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' }],
});
const [q, won, lost] = p.stages.map((s: { id: string }) => s.id) as string[];

/** A deal closed (won or lost) at `closed`, created at `created`, both set with SQL. */
async function closedDeal(o: Record<string, unknown>, to: 'won' | 'lost' | 'open', created: string, closed?: string) {
  const d = await made('POST', '/v1/deals', { name: `D ${randomUUID().slice(0, 6)}`, pipelineId: p.id, stageId: q, ...o });
  if (to !== 'open') await made('PATCH', `/v1/deals/${d.id}`, { stageId: to === 'won' ? won : lost, ...(to === 'lost' ? { lostReason: 'x' } : {}) });
  await db.execute(sql`UPDATE deals SET created_at = ${created}::timestamptz, closed_at = ${closed ?? null}::timestamptz WHERE id = ${d.id}`);
  return d;
}

// won: 10, 20 (A, SAR) and 31 days (B, KWD); lost: A (SAR), B (KWD), B (no amount); open: A (SAR), B (KWD)
await closedDeal({ amount: '1000.00', currency: 'SAR', ...A }, 'won', '2026-01-01T00:00:00Z', '2026-01-11T00:00:00Z');
await closedDeal({ amount: '500.00', currency: 'SAR', ...A }, 'won', '2026-01-05T00:00:00Z', '2026-01-25T00:00:00Z');
await closedDeal({ amount: '300.00', currency: 'SAR', ...A }, 'lost', '2026-01-05T00:00:00Z', '2026-02-10T00:00:00Z');
await closedDeal({ amount: '10.500', currency: 'KWD', ...B }, 'won', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z');
await closedDeal({ amount: '2.000', currency: 'KWD', ...B }, 'lost', '2026-01-01T00:00:00Z', '2026-02-15T00:00:00Z');
await closedDeal({ ...B }, 'lost', '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z');
await closedDeal({ amount: '200.00', currency: 'SAR', ...A }, 'open', '2026-01-01T00:00:00Z');
await closedDeal({ amount: '1.000', currency: 'KWD', ...B }, 'open', '2026-01-01T00:00:00Z');
// not counted: a deleted won deal
const gone = await closedDeal({ amount: '9999.00', currency: 'SAR', ...A }, 'won', '2026-01-01T00:00:00Z', '2026-01-20T00:00:00Z');
await h.request({ method: 'DELETE', url: `/v1/deals/${gone.id}`, headers: admin.auth });

const Q1 = 'from=2026-01-01&to=2026-03-31';

t.test('win rate: won / (won + lost) by closedAt, groups, series, time zone of buckets', async (t) => {
  const all = await get(`/v1/analytics/sales/win-rate?${Q1}`);
  t.match(all, { winRate: 0.5, won: 3, lost: 3, timeZone: 'UTC', from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' });
  t.notOk('groups' in all);

  const byOwner = await get(`/v1/analytics/sales/win-rate?${Q1}&groupBy=owner`);
  const g = Object.fromEntries(byOwner.groups.map((x: { key: string }) => [x.key, x]));
  t.match(g[userA.id], { won: 2, lost: 1 });
  t.equal(g[userA.id].winRate, 2 / 3);
  t.equal(g[userB.id].winRate, 1 / 3);

  const monthly = await get(`/v1/analytics/sales/win-rate?${Q1}&interval=month`);
  t.same(monthly.series, [
    { period: '2026-01-01', winRate: 1, won: 2, lost: 0 },
    { period: '2026-02-01', winRate: 1 / 3, won: 1, lost: 2 },
    { period: '2026-03-01', winRate: 0, won: 0, lost: 1 },
  ]);
  // in New York the deals closed at midnight UTC on Feb 1 and Mar 1 fall on the evening before
  const ny = await get(`/v1/analytics/sales/win-rate?${Q1}&interval=month&timeZone=America/New_York`);
  t.equal(ny.from, '2026-01-01T05:00:00.000Z');
  t.same(ny.series, [
    { period: '2026-01-01', winRate: 1, won: 3, lost: 0 },
    { period: '2026-02-01', winRate: 0, won: 0, lost: 3 },
    { period: '2026-03-01', winRate: null, won: 0, lost: 0 },
  ]);

  const none = await get('/v1/analytics/sales/win-rate?from=2020-01-01&to=2020-12-31&groupBy=team&interval=quarter');
  t.same(none, {
    from: '2020-01-01T00:00:00.000Z', to: '2021-01-01T00:00:00.000Z', timeZone: 'UTC', winRate: null, won: 0, lost: 0, groups: [],
    series: ['2020-01-01', '2020-04-01', '2020-07-01', '2020-10-01'].map((period) => ({ period, winRate: null, won: 0, lost: 0 })),
  });
});

t.test('cycle length, deal size and velocity', async (t) => {
  const cycle = await get(`/v1/analytics/sales/cycle-length?${Q1}`);
  t.match(cycle, { count: 3, averageDays: 20.33, medianDays: 20 });
  const cycleA = await get(`/v1/analytics/sales/cycle-length?${Q1}`, salesA);
  t.match(cycleA, { count: 2, averageDays: 15, medianDays: 15 });
  t.match(await get('/v1/analytics/sales/cycle-length?to=2025-12-31'), { count: 0, averageDays: null, medianDays: null });

  const size = await get(`/v1/analytics/sales/deal-size?${Q1}&interval=quarter`);
  t.same(size.byCurrency, [
    { currency: 'KWD', count: 1, total: '10.500', average: '10.500' },
    { currency: 'SAR', count: 2, total: '1500.00', average: '750.00' },
  ]);
  t.same(size.series, [{ period: '2026-01-01', byCurrency: size.byCurrency }]);

  const v = await get(`/v1/analytics/sales/velocity?${Q1}`);
  // SAR: 1 open × 2/3 × 750.00 / 15 days = 33.33; KWD: 1 open × 1/2 × 10.500 / 31 = 0.169
  t.same(v.byCurrency, [
    { currency: 'KWD', openDeals: 1, won: 1, lost: 1, winRate: 0.5, averageWonAmount: '10.500', cycleDays: 31, velocityPerDay: '0.169' },
    { currency: 'SAR', openDeals: 1, won: 2, lost: 1, winRate: 2 / 3, averageWonAmount: '750.00', cycleDays: 15, velocityPerDay: '33.33' },
  ]);
  const none = await get('/v1/analytics/sales/velocity?to=2025-12-31');
  t.same(none.byCurrency.map((r: { currency: string; velocityPerDay: string | null }) => [r.currency, r.velocityPerDay]), [['KWD', null], ['SAR', null]]);
});

t.test('a sales rep sees the figures of own and team deals only', async (t) => {
  t.match(await get(`/v1/analytics/sales/win-rate?${Q1}`, salesA), { won: 2, lost: 1, winRate: 2 / 3 });
  const size = await get(`/v1/analytics/sales/deal-size?${Q1}`, salesA);
  t.same(size.byCurrency.map((r: { currency: string }) => r.currency), ['SAR']);
  const teamMate = h.user('sales', { teamIds: [team2.id] });
  t.match(await get(`/v1/analytics/sales/win-rate?${Q1}`, teamMate), { won: 1, lost: 2 });
  t.match(await get(`/v1/analytics/sales/win-rate?${Q1}`, h.user('sales')), { won: 0, lost: 0, winRate: null });
});

t.test('roles, validation and unauthenticated calls', async (t) => {
  for (const role of ['support', 'marketing'] as const) {
    const res = await call('/v1/analytics/sales/win-rate', h.user(role));
    t.equal(res.statusCode, 403, role);
    t.equal(res.json().code, 'forbidden');
  }
  for (const role of ['viewer', 'manager'] as const) t.match(await get(`/v1/analytics/sales/win-rate?${Q1}`, h.user(role)), { won: 3 });
  t.equal((await call('/v1/analytics/sales/funnel', null)).statusCode, 401);

  const bad = async (query: string, path: string) => {
    const res = await call(`/v1/analytics/sales/win-rate?${query}`);
    t.equal(res.statusCode, 400, query);
    t.ok(res.json().errors.some((e: { path: string }) => e.path === path), `${query} names ${path}`);
  };
  await bad('timeZone=Mars/Olympus', 'timeZone');
  await bad('interval=year', 'interval');
  await bad('groupBy=stage', 'groupBy');
  await bad('from=2026-02-30', 'from');
  await bad('from=2026-03-01&to=2026-01-01', 'to');
  await bad('color=red', 'color');
  await bad('from=2000-01-01&interval=day', 'interval');
});

t.test('funnel: deals reaching each stage per currency, skipped stages count as passed', async (t) => {
  const f = await made('POST', '/v1/pipelines', {
    name: 'Funnel F', stages: [{ name: 'S1', probability: 10 }, { name: 'S2', probability: 50 }, { name: 'W', probability: 100, kind: 'won' }, { name: 'L', probability: 0, kind: 'lost' }],
  });
  const [s1, s2, w, l] = f.stages.map((s: { id: string }) => s.id) as [string, string, string, string];
  const deal = (stageId: string, amount: string, currency: string) => made('POST', '/v1/deals', { name: 'F', pipelineId: f.id, stageId, amount, currency });
  await deal(s1, '100.00', 'SAR');
  const f2 = await deal(s1, '200.00', 'SAR');
  await made('PATCH', `/v1/deals/${f2.id}`, { stageId: s2 });
  const f3 = await deal(s1, '1.000', 'KWD');
  await made('PATCH', `/v1/deals/${f3.id}`, { stageId: w });
  const f4 = await deal(s2, '50.00', 'SAR');
  await made('PATCH', `/v1/deals/${f4.id}`, { stageId: l, lostReason: 'x' });

  const since = new Date(Date.now() - 3_600_000).toISOString();
  const res = await get(`/v1/analytics/sales/funnel?pipelineId=${f.id}&from=${since}`);
  t.equal(res.pipelines.length, 1);
  t.same(res.pipelines[0].stages.map((s: Record<string, unknown>) => [s.name, s.count, s.amount, s.conversionFromPrevious]), [
    ['S1', 4, [{ currency: 'KWD', amount: '1.000' }, { currency: 'SAR', amount: '350.00' }], null],
    ['S2', 3, [{ currency: 'KWD', amount: '1.000' }, { currency: 'SAR', amount: '250.00' }], 0.75],
    ['W', 1, [{ currency: 'KWD', amount: '1.000' }], 1 / 3],
  ]);
  // the closed pipeline's deals were created in January: nothing of them reaches this range
  const all = await get(`/v1/analytics/sales/funnel?from=${since}`);
  const closedP = all.pipelines.find((x: { pipelineId: string }) => x.pipelineId === p.id);
  t.same(closedP.stages.map((s: { count: number }) => s.count), [0, 0]);
  // a sales rep owns none of the funnel deals (the admin created them)
  const mine = await get(`/v1/analytics/sales/funnel?pipelineId=${f.id}`, salesA);
  t.same(mine.pipelines[0].stages.map((s: { count: number }) => s.count), [0, 0, 0]);
});

t.test('lead sources: leads per source, converted, rate', async (t) => {
  const lead = (source: string | undefined, o: object = {}) => made('POST', '/v1/leads', { email: `${randomUUID().slice(0, 8)}@l.example`, ...(source ? { source } : {}), ...o });
  const l1 = await lead('web', A);
  await lead('web');
  await lead('web');
  const r1 = await lead('referral');
  await lead(undefined);
  await db.execute(sql`UPDATE leads SET status = 'converted', converted_at = now() WHERE id IN (${l1.id}, ${r1.id})`);
  const res = await get('/v1/analytics/sales/lead-sources');
  t.match(res, { leads: 5, converted: 2, conversionRate: 0.4 });
  t.same(res.sources, [
    { source: 'web', leads: 3, converted: 1, conversionRate: 1 / 3 },
    { source: 'referral', leads: 1, converted: 1, conversionRate: 1 },
    { source: null, leads: 1, converted: 0, conversionRate: 0 },
  ]);
  t.same(await get('/v1/analytics/sales/lead-sources', salesA), {
    from: null, to: null, timeZone: 'UTC', leads: 1, converted: 1, conversionRate: 1,
    sources: [{ source: 'web', leads: 1, converted: 1, conversionRate: 1 }],
  });
});

t.test('GraphQL: the same figures and errors', async (t) => {
  const query = `query($from: String, $to: String) {
    salesWinRate(from: $from, to: $to, groupBy: owner, interval: month) { winRate won lost groups { key winRate } series { period won lost } }
    salesCycleLength(from: $from, to: $to) { count averageDays medianDays }
    salesDealSize(from: $from, to: $to) { byCurrency { currency count total average } }
    salesVelocity(from: $from, to: $to) { byCurrency { currency velocityPerDay } }
    salesLeadSources { leads converted sources { source leads } }
    salesFunnel(from: $from, to: $to) { pipelines { name stages { name count amount { currency amount } conversionFromPrevious } } }
  }`;
  const vars = { from: '2026-01-01', to: '2026-03-31' };
  const res = await h.gql(admin, query, vars);
  t.equal(res.status, 200, JSON.stringify(res.body.errors));
  const d = res.body.data as Record<string, any>;
  t.match(d.salesWinRate, { winRate: 0.5, won: 3, lost: 3 });
  t.equal(d.salesWinRate.series.length, 3);
  t.match(d.salesCycleLength, { count: 3, medianDays: 20 });
  t.same(d.salesDealSize.byCurrency[1], { currency: 'SAR', count: 2, total: '1500.00', average: '750.00' });
  // the funnel test added two open SAR deals: 3 open × 2/3 × 750.00 / 15 days
  t.same(d.salesVelocity.byCurrency.map((r: { velocityPerDay: string }) => r.velocityPerDay), ['0.169', '100.00']);

  const scoped = await h.gql(salesA, '{ salesWinRate(from: "2026-01-01", to: "2026-03-31") { won lost } }');
  t.same(scoped.body.data?.salesWinRate, { won: 2, lost: 1 });
  const refused = await h.gql(h.user('support'), '{ salesWinRate { won } }');
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden');
  const bad = await h.gql(admin, '{ salesWinRate(timeZone: "Nowhere/Else") { won } }');
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.equal(bad.body.errors?.[0]?.extensions.errors?.[0]?.path, 'timeZone');
  const anon = await h.gql(undefined, '{ salesWinRate { won } }');
  t.equal(anon.body.errors?.[0]?.extensions.code, 'unauthenticated');
});
