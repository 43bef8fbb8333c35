import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp, type TestUser } from '../helpers/app.js';

// The forecast against hand-computed figures: two currencies (SAR 2 decimals, KWD 3), two months,
// probabilities 25 and 60, won actuals, groupBy owner, a sales user's scope, over REST and GraphQL.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who: TestUser = admin, payload?: object) =>
  h.request({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });

async function made(method: 'POST' | 'PATCH', url: string, payload: object) {
  const res = await call(method, url, admin, payload);
  if (res.statusCode >= 300) throw new Error(`${method} ${url} failed: ${res.body}`);
  return res.json();
}

// Months relative to today (UTC): M0 holds the won deals (closedAt is "now") and M1 is the next month.
const today = new Date();
const month = (k: number) => new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + k, 1)).toISOString().slice(0, 10);
const day = (k: number, d: number) => `${month(k).slice(0, 8)}${String(d).padStart(2, '0')}`;
const [M0, M1, M2] = [month(0), month(1), month(2)];

// ---- fixture: two sales users in two teams, two pipelines, deals in every case the forecast must tell apart
const team1 = await made('POST', '/v1/teams', { name: `T1 ${randomUUID().slice(0, 6)}` });
const team2 = await made('POST', '/v1/teams', { name: `T2 ${randomUUID().slice(0, 6)}` });
const userA = await made('POST', '/v1/users', { email: `a-${randomUUID().slice(0, 8)}@f.example`, password: `pw-${randomUUID()}`, name: 'A', role: 'sales', teamIds: [team1.id] });
const userB = await made('POST', '/v1/users', { email: `b-${randomUUID().slice(0, 8)}@f.example`, password: `pw-${randomUUID()}`, name: 'B', role: 'sales', teamIds: [team2.id] });
const salesA = h.user('sales', { id: userA.id, teamIds: [team1.id] });

const p1 = await made('POST', '/v1/pipelines', {
  name: 'Forecast P1',
  stages: [{ name: 'S25', probability: 25 }, { name: 'S60', probability: 60 }, { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' }],
});
const [s25, s60, won, lost] = p1.stages.map((s: { id: string }) => s.id) as string[];
const p2 = await made('POST', '/v1/pipelines', { name: 'Forecast P2', stages: [{ name: 'T60', probability: 60 }, { name: 'Won', probability: 100, kind: 'won' }] });
const [t60, won2] = p2.stages.map((s: { id: string }) => s.id) as string[];

const deal = (o: Record<string, unknown>) => made('POST', '/v1/deals', { name: `D ${randomUUID().slice(0, 6)}`, pipelineId: p1.id, ...o });
const A = { ownerId: userA.id, teamId: team1.id };
const B = { ownerId: userB.id, teamId: team2.id };

// M0 open: 1000.00 SAR @25 (A), 333.33 SAR @60 (B), 10.005 KWD @60 (A)
await deal({ stageId: s25, amount: '1000.00', currency: 'SAR', expectedCloseDate: day(0, 15), ...A });
await deal({ stageId: s60, amount: '333.33', currency: 'SAR', expectedCloseDate: day(0, 20), ...B });
await deal({ stageId: s60, amount: '10.005', currency: 'KWD', expectedCloseDate: day(0, 5), ...A });
// M1 open: 1.001 KWD @25 (B), 200.50 SAR @25 (A), no amount @60 (admin), 100.00 SAR @60 (admin, team 1)
await deal({ stageId: s25, amount: '1.001', currency: 'KWD', expectedCloseDate: day(1, 10), ...B });
await deal({ stageId: s25, amount: '200.50', currency: 'SAR', expectedCloseDate: day(1, 3), ...A });
const noAmount = await deal({ stageId: s60, expectedCloseDate: day(1, 28) });
await deal({ stageId: s60, amount: '100.00', currency: 'SAR', expectedCloseDate: day(1, 15), ownerId: admin.id, teamId: team1.id });
// won now (M0): 500.00 SAR (A) and 3.500 KWD (B, second pipeline); they leave the open forecast
const w1 = await deal({ stageId: s60, amount: '500.00', currency: 'SAR', expectedCloseDate: day(1, 1), ...A });
const w2 = await deal({ pipelineId: p2.id, stageId: t60, amount: '3.500', currency: 'KWD', expectedCloseDate: day(1, 2), ...B });
const wonA = await made('PATCH', `/v1/deals/${w1.id}`, { stageId: won });
await made('PATCH', `/v1/deals/${w2.id}`, { stageId: won2 });
// not counted anywhere: a lost deal, a deleted deal, an open deal without expected close date
const l1 = await deal({ stageId: s25, amount: '999.00', currency: 'SAR', expectedCloseDate: day(0, 2), ...A });
await made('PATCH', `/v1/deals/${l1.id}`, { stageId: lost, lostReason: 'budget' });
const gone = await deal({ stageId: s25, amount: '777.00', currency: 'SAR', expectedCloseDate: day(0, 3), ...A });
await call('DELETE', `/v1/deals/${gone.id}`);
await deal({ stageId: s25, amount: '55.00', currency: 'SAR', ...A });

const forecast = (query: Record<string, string>, who: TestUser = admin) => call('GET', `/v1/forecast?${new URLSearchParams(query)}`, who);

const zero = (start: string, end: string) => ({ start, end, count: 0, amount: {}, weightedAmount: {}, won: { count: 0, amount: {} } });
const EXPECTED_M0 = {
  start: M0, end: M1, count: 3,
  amount: { SAR: '1333.33', KWD: '10.005' },
  weightedAmount: { SAR: '450.00', KWD: '6.003' }, // 250 + 199.998; 6.003
  won: { count: 2, amount: { SAR: '500.00', KWD: '3.500' } },
};
const EXPECTED_M1 = {
  start: M1, end: M2, count: 4,
  amount: { SAR: '300.50', KWD: '1.001' },
  weightedAmount: { SAR: '110.13', KWD: '0.250' }, // 50.125 + 60 = 110.125 → 110.13; 0.25025 → 0.250
  won: { count: 0, amount: {} },
};
const EXPECTED_TOTALS = {
  count: 7,
  amount: { SAR: '1633.83', KWD: '11.006' },
  weightedAmount: { SAR: '560.12', KWD: '6.253' }, // 449.998 + 110.125 = 560.123; 6.003 + 0.25025 = 6.25325
  won: { count: 2, amount: { SAR: '500.00', KWD: '3.500' } },
};

t.test('fixture sanity: the won deal closed this month', async (t) => {
  t.equal(wonA.status, 'won');
  t.equal(String(wonA.closedAt).slice(0, 7), M0.slice(0, 7));
  t.equal(noAmount.amount, null);
});

t.test('monthly forecast over two currencies and two months matches the hand-computed figures', async (t) => {
  const res = await forecast({ from: day(0, 10), to: day(1, 1), interval: 'month' });
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json(), { interval: 'month', from: M0, to: M2, periods: [EXPECTED_M0, EXPECTED_M1], totals: EXPECTED_TOTALS });
});

t.test('without from/to the range follows the data; empty periods still appear', async (t) => {
  const derived = await forecast({});
  t.same(derived.json(), { interval: 'month', from: M0, to: M2, periods: [EXPECTED_M0, EXPECTED_M1], totals: EXPECTED_TOTALS });

  const wide = (await forecast({ from: month(-1), to: day(3, 1) })).json();
  t.same(wide.periods.map((p: { start: string }) => p.start), [month(-1), M0, M1, M2, month(3)]);
  t.same(wide.periods[0], zero(month(-1), M0), 'a month without deals is all zeros');
  t.same(wide.periods[3], zero(M2, month(3)));
  t.same(wide.totals, EXPECTED_TOTALS);

  const quarters = (await forecast({ interval: 'quarter' })).json();
  t.equal(quarters.interval, 'quarter');
  t.ok(quarters.periods.every((p: { start: string }) => ['01', '04', '07', '10'].includes(p.start.slice(5, 7)) && p.start.endsWith('-01')), 'quarters start on a quarter');
  t.same(quarters.totals, EXPECTED_TOTALS, 'the totals do not depend on the interval');
});

t.test('groupBy owner splits each period\'s open deals; the owner-less key is null', async (t) => {
  const res = (await forecast({ from: M0, to: M1, groupBy: 'owner' })).json();
  const byKey = (groups: { key: string | null }[]) => Object.fromEntries(groups.map((g) => [String(g.key), g]));
  const [g0, g1] = res.periods.map((p: { groups: { key: string | null }[] }) => byKey(p.groups));
  t.same(g0, {
    [userA.id]: { key: userA.id, count: 2, amount: { SAR: '1000.00', KWD: '10.005' }, weightedAmount: { SAR: '250.00', KWD: '6.003' } },
    [userB.id]: { key: userB.id, count: 1, amount: { SAR: '333.33' }, weightedAmount: { SAR: '200.00' } },
  });
  t.same(g1, {
    [userA.id]: { key: userA.id, count: 1, amount: { SAR: '200.50' }, weightedAmount: { SAR: '50.13' } },
    [userB.id]: { key: userB.id, count: 1, amount: { KWD: '1.001' }, weightedAmount: { KWD: '0.250' } },
    [admin.id]: { key: admin.id, count: 2, amount: { SAR: '100.00' }, weightedAmount: { SAR: '60.00' } },
  });
  t.match(res.periods[0], { count: 3, won: { count: 2 } }, 'period figures stay whole');

  const byTeam = (await forecast({ from: M1, to: M1, groupBy: 'team' })).json();
  t.same(byTeam.periods[0].groups.map((g: { key: string | null; count: number }) => [g.key, g.count]).sort(),
    [[null, 1], [team1.id, 2], [team2.id, 1]].sort(), 'team keys, null for deals without a team');
  const byPipeline = (await forecast({ from: M0, to: M0, groupBy: 'pipeline' })).json();
  t.same(byPipeline.periods[0].groups.map((g: { key: string }) => g.key), [p1.id]);
});

t.test('a sales user sees only deals they own or of their teams', async (t) => {
  const res = await forecast({ from: M0, to: M1 }, salesA);
  t.equal(res.statusCode, 200);
  t.same(res.json().periods, [
    { start: M0, end: M1, count: 2, amount: { SAR: '1000.00', KWD: '10.005' }, weightedAmount: { SAR: '250.00', KWD: '6.003' }, won: { count: 1, amount: { SAR: '500.00' } } },
    { start: M1, end: M2, count: 2, amount: { SAR: '300.50' }, weightedAmount: { SAR: '110.13' }, won: { count: 0, amount: {} } },
  ]);
  t.same(res.json().totals, { count: 4, amount: { SAR: '1300.50', KWD: '10.005' }, weightedAmount: { SAR: '360.13', KWD: '6.003' }, won: { count: 1, amount: { SAR: '500.00' } } });

  const loner = h.user('sales');
  t.same((await forecast({}, loner)).json(), { interval: 'month', from: null, to: null, periods: [], totals: { count: 0, amount: {}, weightedAmount: {}, won: { count: 0, amount: {} } } }, 'no data, no periods');
  t.same((await forecast({ from: M0, to: M0 }, loner)).json().periods, [zero(M0, M1)]);
});

t.test('roles: support is refused; marketing, viewer and manager read everything', async (t) => {
  const support = await forecast({}, h.user('support'));
  t.equal(support.statusCode, 403);
  t.equal(support.json().code, 'forbidden');
  for (const role of ['marketing', 'viewer', 'manager'] as const) {
    const res = await forecast({ from: M0, to: M1 }, h.user(role));
    t.equal(res.statusCode, 200, role);
    t.same(res.json().totals, EXPECTED_TOTALS, role);
  }
  t.equal((await h.request({ method: 'GET', url: '/v1/forecast' })).statusCode, 401);
});

t.test('bad parameters are 400 validation_failed naming them', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ interval: 'week' }, 'interval'],
    [{ groupBy: 'stage' }, 'groupBy'],
    [{ from: '2026-02-30' }, 'from'],
    [{ to: 'tomorrow' }, 'to'],
    [{ from: '2026-05-01', to: '2026-04-30' }, 'to'],
    [{ from: '2000-01-01', to: '2010-01-01' }, 'to'],
    [{ colour: 'red' }, 'colour'],
  ];
  for (const [query, path] of cases) {
    const res = await forecast(query);
    t.equal(res.statusCode, 400, JSON.stringify(query));
    t.match(res.json(), { code: 'validation_failed', errors: [{ path }] }, JSON.stringify(query));
  }
  t.equal((await forecast({ from: '2000-01-01', to: '2009-12-31' })).statusCode, 200, '120 months is the most');
  t.equal((await forecast({ from: '2000-01-01', to: '2029-12-31', interval: 'quarter' })).statusCode, 200, '120 quarters too');
});

t.test('GraphQL forecast answers the same figures, scope and errors', async (t) => {
  const Q = `query($from: String, $to: String, $interval: ForecastInterval, $groupBy: ForecastGroupBy) {
    forecast(from: $from, to: $to, interval: $interval, groupBy: $groupBy) {
      interval from to
      periods { start end count amount weightedAmount won { count amount } groups { key count amount weightedAmount } }
      totals { count amount weightedAmount won { count amount } } } }`;
  const all = await h.gql(admin, Q, { from: M0, to: M1, interval: 'month' });
  t.same(all.body.errors, undefined);
  t.same(all.body.data?.forecast, {
    interval: 'month', from: M0, to: M2,
    periods: [{ ...EXPECTED_M0, groups: null }, { ...EXPECTED_M1, groups: null }],
    totals: EXPECTED_TOTALS,
  });
  const grouped = await h.gql(admin, Q, { from: M1, to: M1, groupBy: 'owner' });
  t.equal(grouped.body.data?.forecast.periods[0].groups.length, 3);
  const mine = await h.gql(salesA, Q, {});
  t.same(mine.body.data?.forecast.totals.amount, { SAR: '1300.50', KWD: '10.005' });
  const support = await h.gql(h.user('support'), Q, {});
  t.equal(support.body.errors?.[0]?.extensions.code, 'forbidden');
  const bad = await h.gql(admin, Q, { from: '2026-13-01' });
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.match(bad.body.errors?.[0]?.extensions.errors, [{ path: 'from' }]);
  const badEnum = await h.gql(admin, Q, { interval: 'week' });
  t.equal(badEnum.body.errors?.[0]?.extensions.code, 'validation_failed');
});
