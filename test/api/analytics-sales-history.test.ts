import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestUser } from '../helpers/app.js';

// Stage duration and forecast accuracy against a hand-computed fixture (docs/metrics.md): deals moved
// through a pipeline with the API, their stage history then dated with SQL (January–March 2026).

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

const team1 = await made('POST', '/v1/teams', { name: `H1 ${randomUUID().slice(0, 6)}` });
const team2 = await made('POST', '/v1/teams', { name: `H2 ${randomUUID().slice(0, 6)}` });
const userA = await made('POST', '/v1/users', { email: `ha-${randomUUID().slice(0, 8)}@s.example`, password: `pw-${randomUUID()}`, name: 'A', role: 'sales', teamIds: [team1.id] });
const salesA = h.user('sales', { id: userA.id, teamIds: [team1.id] });
const A = { ownerId: userA.id, teamId: team1.id };
const B = { teamId: team2.id };

const p = await made('POST', '/v1/pipelines', {
  name: 'History', stages: [{ name: 'S1', probability: 20 }, { name: 'S2', probability: 50 }, { name: 'W', probability: 100, kind: 'won' }, { name: 'L', probability: 0, kind: 'lost' }],
});
const [S1, S2, W, L] = p.stages.map((s: { id: string }) => s.id) as [string, string, string, string];

/** A deal walked through `steps` (stage, when it entered it) with the API, then dated with SQL. */
async function deal(o: Record<string, unknown>, steps: [string, string][]) {
  const [first, ...rest] = steps as [[string, string], ...[string, string][]];
  const d = await made('POST', '/v1/deals', { name: `H ${randomUUID().slice(0, 6)}`, pipelineId: p.id, stageId: first[0], ...o });
  for (const [stageId] of rest) await made('PATCH', `/v1/deals/${d.id}`, { stageId, ...(stageId === L ? { lostReason: 'x' } : {}) });
  for (const [stageId, at] of steps) await db.execute(sql`UPDATE deal_stage_history SET changed_at = ${at}::timestamptz WHERE deal_id = ${d.id} AND to_stage_id = ${stageId}`);
  const last = steps[steps.length - 1] as [string, string];
  const closed = last[0] === W || last[0] === L ? last[1] : null;
  await db.execute(sql`UPDATE deals SET created_at = ${first[1]}::timestamptz, closed_at = ${closed}::timestamptz WHERE id = ${d.id}`);
}
const jan = (d: string) => `2026-01-${d}Z`;
const feb = (d: string) => `2026-02-${d}Z`;
const SAR = (amount: string, expectedCloseDate?: string) => ({ amount, currency: 'SAR', ...(expectedCloseDate ? { expectedCloseDate } : {}) });

// D1 (A): S1 4 days, S2 10 days, won in January. D2: S1 2 days, S2 6 days, lost in January.
await deal({ ...A, ...SAR('100.00') }, [[S1, jan('01T00:00:00')], [S2, jan('05T00:00:00')], [W, jan('15T00:00:00')]]);
await deal({ ...B, ...SAR('100.00') }, [[S1, jan('02T00:00:00')], [S2, jan('04T00:00:00')], [L, jan('10T00:00:00')]]);
// D3 (A): in S1 since 3 January, expected in February: forecast 1000 × 20 % at 1 February, never won
await deal({ ...A, ...SAR('1000.00', '2026-02-10') }, [[S1, jan('03T00:00:00')]]);
// D4: S1 9.5 days, in S2 at 1 February (2000 × 50 %), won 10 February
await deal({ ...B, ...SAR('2000.00', '2026-02-20') }, [[S1, jan('20T00:00:00')], [S2, jan('29T12:00:00')], [W, feb('10T00:00:00')]]);
// D5 (A): created after 1 February and won in it: a win nobody forecast, in KWD
await deal({ ...A, amount: '3.000', currency: 'KWD', expectedCloseDate: '2026-02-25' }, [[S1, feb('05T00:00:00')], [W, feb('20T00:00:00')]]);
// D6: in S1 at 1 February (500 × 20 %), lost 25 February
await deal({ ...B, ...SAR('500.00', '2026-02-28') }, [[S1, jan('10T00:00:00')], [S2, feb('15T00:00:00')], [L, feb('25T00:00:00')]]);
// D7 (A): expected in March, in S1 at 1 March (800 × 20 %), in S2 since 5 March, open
await deal({ ...A, ...SAR('800.00', '2026-03-15') }, [[S1, jan('15T00:00:00')], [S2, '2026-03-05T00:00:00Z']]);
// D8: expected in March but won in February: a February win, not in March's forecast
await deal({ ...B, ...SAR('999.00', '2026-03-10') }, [[S1, jan('01T00:00:00')], [W, feb('27T00:00:00')]]);

t.test('stage duration: stays that ended in the range, per stage, and open deals now', async (t) => {
  const r = await get(`/v1/analytics/sales/stage-duration?from=2026-01-01&to=2026-01-31&pipelineId=${p.id}`);
  t.equal(r.pipelines.length, 1);
  // S1 stays ended in January: D1 4, D2 2, D4 9.5 days; S2: D1 10, D2 6. Won and lost stages are not listed.
  t.same(r.pipelines[0].stages, [
    { stageId: S1, name: 'S1', position: 0, stays: 3, averageDays: 5.17, medianDays: 4, openDeals: 1 },
    { stageId: S2, name: 'S2', position: 1, stays: 2, averageDays: 8, medianDays: 8, openDeals: 1 },
  ]);
  const early = await get(`/v1/analytics/sales/stage-duration?from=2026-01-01&to=2026-01-09&pipelineId=${p.id}`);
  t.same(early.pipelines[0].stages.map((s: Record<string, unknown>) => [s.stays, s.averageDays, s.medianDays]), [[2, 3, 3], [0, null, null]]);
  const rep = await get(`/v1/analytics/sales/stage-duration?from=2026-01-01&to=2026-01-31&pipelineId=${p.id}`, salesA);
  t.same(rep.pipelines[0].stages.map((s: Record<string, unknown>) => [s.stays, s.averageDays, s.openDeals]), [[1, 4, 1], [1, 10, 1]], 'only D1, D3 and D7');
});

const row = (currency: string, o: Record<string, unknown>) => ({
  currency, forecastDeals: 0, forecastWon: 0, wonDeals: 0, accuracy: null,
  ...(currency === 'KWD' ? { forecastAmount: '0.000', weightedForecast: '0.000', wonAmount: '0.000' } : { forecastAmount: '0.00', weightedForecast: '0.00', wonAmount: '0.00' }),
  ...o,
});

t.test('forecast accuracy: the forecast at each period start against what was won in the period', async (t) => {
  const r = await get('/v1/analytics/sales/forecast-accuracy?from=2026-02-01&to=2026-03-31');
  t.match(r, { interval: 'month', from: '2026-02-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' });
  t.same(r.series, [
    { period: '2026-02-01', byCurrency: [
      row('KWD', { wonDeals: 1, wonAmount: '3.000' }),
      row('SAR', { forecastDeals: 3, forecastAmount: '3500.00', weightedForecast: '1300.00', forecastWon: 1, wonDeals: 2, wonAmount: '2999.00', accuracy: 2999 / 1300 }),
    ] },
    { period: '2026-03-01', byCurrency: [row('SAR', { forecastDeals: 1, forecastAmount: '800.00', weightedForecast: '160.00', accuracy: 0 })] },
  ]);
  t.same(r.byCurrency, [
    row('KWD', { wonDeals: 1, wonAmount: '3.000' }),
    row('SAR', { forecastDeals: 4, forecastAmount: '4300.00', weightedForecast: '1460.00', forecastWon: 1, wonDeals: 2, wonAmount: '2999.00', accuracy: 2999 / 1460 }),
  ]);

  const rep = await get('/v1/analytics/sales/forecast-accuracy?from=2026-02-01&to=2026-02-28', salesA);
  t.same(rep.series, [{ period: '2026-02-01', byCurrency: [
    row('KWD', { wonDeals: 1, wonAmount: '3.000' }),
    row('SAR', { forecastDeals: 1, forecastAmount: '1000.00', weightedForecast: '200.00', accuracy: 0 }),
  ] }], 'a rep: D3 forecast, D5 won');

  const none = await get('/v1/analytics/sales/forecast-accuracy?from=2020-01-01&to=2020-06-30&interval=quarter');
  t.same([none.byCurrency, none.series], [[], [{ period: '2020-01-01', byCurrency: [] }, { period: '2020-04-01', byCurrency: [] }]]);
});

t.test('roles, validation and GraphQL', async (t) => {
  for (const role of ['support', 'marketing'] as const) {
    t.equal((await call('/v1/analytics/sales/stage-duration', h.user(role))).statusCode, 403, role);
    t.equal((await call('/v1/analytics/sales/forecast-accuracy', h.user(role))).statusCode, 403, role);
  }
  t.equal((await call('/v1/analytics/sales/forecast-accuracy', null)).statusCode, 401);
  const bad = await call('/v1/analytics/sales/forecast-accuracy?interval=year');
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().errors[0].path, 'interval');
  t.equal((await call('/v1/analytics/sales/stage-duration?pipelineId=nope')).statusCode, 400);

  const res = await h.gql(salesA, `{
    salesStageDuration(from: "2026-01-01", to: "2026-01-31", pipelineId: "${p.id}") { pipelines { stages { name stays averageDays openDeals } } }
    salesForecastAccuracy(from: "2026-02-01", to: "2026-02-28") { interval series { period byCurrency { currency weightedForecast wonAmount accuracy } } }
  }`);
  t.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  t.same(res.body.data, {
    salesStageDuration: { pipelines: [{ stages: [{ name: 'S1', stays: 1, averageDays: 4, openDeals: 1 }, { name: 'S2', stays: 1, averageDays: 10, openDeals: 1 }] }] },
    salesForecastAccuracy: { interval: 'month', series: [{ period: '2026-02-01', byCurrency: [
      { currency: 'KWD', weightedForecast: '0.000', wonAmount: '3.000', accuracy: null },
      { currency: 'SAR', weightedForecast: '200.00', wonAmount: '0.00', accuracy: 0 },
    ] }] },
  });
  const refused = await h.gql(h.user('support'), '{ salesForecastAccuracy { interval } }');
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden');
});
