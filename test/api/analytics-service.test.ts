import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestUser } from '../helpers/app.js';
import { refreshBusinessTimes } from '../../src/modules/service/ticket-business-times.js';

// Service figures against hand-computed fixtures (docs/metrics.md "Service"): tickets written with SQL
// in January 2026 (one breached and then pending), ratings, NPS answers through the API.

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
const requester = (await (await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { email: `${randomUUID().slice(0, 8)}@t.example` } })).json()).id as string;
const [u1, u2, team1, team2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

async function ticket(o: Record<string, string | number | null>) {
  const cols = { id: randomUUID(), subject: 'T', requester_id: requester, ...o };
  const names = Object.keys(cols).map((c) => sql.identifier(c));
  const values = Object.values(cols).map((v) => sql`${v}`);
  await db.execute(sql`INSERT INTO tickets (${sql.join(names, sql`, `)}) VALUES (${sql.join(values, sql`, `)})`);
}
const at = (s: string) => `2026-01-${s}Z`;
// T1: answered in 30 min, solved in 600 min, both in time, rated 5
await ticket({ created_at: at('01T00:00:00'), first_responded_at: at('01T00:30:00'), solved_at: at('01T10:00:00'), status: 'solved', assignee_id: u1, team_id: team1,
  first_response_due_at: at('01T01:00:00'), resolution_due_at: at('02T00:00:00'), satisfaction_score: 5, satisfaction_at: at('02T00:00:00') });
// T2: answered late (120 min, breach flagged), solved in 1440 min in time, rated 2
await ticket({ created_at: at('02T00:00:00'), first_responded_at: at('02T02:00:00'), solved_at: at('03T00:00:00'), status: 'solved', assignee_id: u1, team_id: team1,
  first_response_due_at: at('02T01:00:00'), first_response_breached_at: at('02T01:00:00'), resolution_due_at: at('04T00:00:00'), satisfaction_score: 2, satisfaction_at: at('03T00:00:00') });
// T3: answered in 10 min, resolution breached and then set pending: stays breached
await ticket({ created_at: at('03T00:00:00'), first_responded_at: at('03T00:10:00'), status: 'pending', assignee_id: u2, team_id: team2, priority: 'high',
  first_response_due_at: at('03T01:00:00'), resolution_due_at: at('03T08:00:00'), resolution_breached_at: at('03T08:00:00'), sla_paused_at: at('03T09:00:00'), sla_breached: 'true' });
// T4: new, unanswered, no SLA; T5: deleted
await ticket({ created_at: at('04T00:00:00'), status: 'new' });
await ticket({ created_at: at('05T00:00:00'), first_responded_at: at('05T00:01:00'), status: 'open', deleted_at: at('06T00:00:00') });

const JAN = 'from=2026-01-01&to=2026-01-31';

t.test('response times: calendar minutes, median and p90, per assignee', async (t) => {
  const r = await get(`/v1/analytics/service/response-times?${JAN}&groupBy=assignee`);
  // first responses 10, 30, 120: p90 = 30 + 0.8 × 90 = 102; resolutions 600, 1440: p90 = 600 + 0.9 × 840 = 1356
  t.same(r.firstResponse, { count: 3, averageMinutes: 53.33, medianMinutes: 30, p90Minutes: 102 });
  t.same(r.resolution, { count: 2, averageMinutes: 1020, medianMinutes: 1020, p90Minutes: 1356 });
  const g = Object.fromEntries(r.groups.map((x: { key: string | null }) => [x.key ?? 'none', x]));
  t.same(g[u1].firstResponse, { count: 2, averageMinutes: 75, medianMinutes: 75, p90Minutes: 111 });
  t.same(g[u2].resolution, { count: 0, averageMinutes: null, medianMinutes: null, p90Minutes: null });
  t.equal(g.none.firstResponse.count, 0);
  const weekly = await get(`/v1/analytics/service/response-times?from=2026-01-01&to=2026-01-07&interval=week`);
  // 2026-01-01 is a Thursday: its ISO week starts on Monday 29 December
  t.same(weekly.series.map((s: { period: string; firstResponse: { count: number } }) => [s.period, s.firstResponse.count]), [['2025-12-29', 3], ['2026-01-05', 0]]);
  t.same((await get('/v1/analytics/service/response-times?to=2025-01-01')).firstResponse, { count: 0, averageMinutes: null, medianMinutes: null, p90Minutes: null });
});

t.test('SLA compliance: met / (met + breached), a breach stays one while pending', async (t) => {
  const r = await get(`/v1/analytics/service/sla-compliance?${JAN}&groupBy=team`);
  t.same(r.firstResponse, { met: 2, breached: 1, compliance: 2 / 3 });
  t.same(r.resolution, { met: 2, breached: 1, compliance: 2 / 3 });
  const g = Object.fromEntries(r.groups.map((x: { key: string | null }) => [x.key ?? 'none', x]));
  t.same(g[team2].resolution, { met: 0, breached: 1, compliance: 0 });
  t.same(g.none.firstResponse, { met: 0, breached: 0, compliance: null });
});

t.test('backlog and satisfaction', async (t) => {
  const b = await get(`/v1/analytics/service/backlog?${JAN}`);
  t.match(b, { open: 2, created: 4, solved: 2 });
  t.same(b.byStatus, [{ status: 'new', count: 1 }, { status: 'open', count: 0 }, { status: 'pending', count: 1 }]);
  t.same(b.byPriority, [{ priority: 'low', count: 0 }, { priority: 'normal', count: 1 }, { priority: 'high', count: 1 }, { priority: 'urgent', count: 0 }]);

  for (const score of [10, 9, 7, 3]) {
    const res = await h.request({ method: 'POST', url: '/v1/feedback', headers: admin.auth, payload: { type: 'nps', score, contactId: requester } });
    t.equal(res.statusCode, 201, res.body);
  }
  const jan = await get(`/v1/analytics/service/satisfaction?${JAN}`);
  t.same(jan.csat, { responses: 2, satisfied: 1, score: 0.5, averageRating: 3.5 });
  t.same(jan.nps, { responses: 0, promoters: 0, passives: 0, detractors: 0, score: null }); // the answers are from today
  const all = await get('/v1/analytics/service/satisfaction');
  t.same(all.nps, { responses: 4, promoters: 2, passives: 1, detractors: 1, score: 0.25 });
});

t.test('roles and GraphQL', async (t) => {
  for (const role of ['support', 'sales', 'viewer'] as const) {
    t.match(await get(`/v1/analytics/service/sla-compliance?${JAN}`, h.user(role)), { firstResponse: { met: 2 } }, role);
  }
  const refused = await call('/v1/analytics/service/backlog', h.user('marketing'));
  t.equal(refused.statusCode, 403);
  t.equal((await call('/v1/analytics/service/backlog', null)).statusCode, 401);
  // support reads service figures only
  t.equal((await call('/v1/analytics/customers/rfm', h.user('support'))).statusCode, 403);

  const res = await h.gql(h.user('support'), `{
    serviceResponseTimes(from: "2026-01-01", to: "2026-01-31") { firstResponse { count medianMinutes p90Minutes } }
    serviceSlaCompliance(from: "2026-01-01", to: "2026-01-31", groupBy: assignee) { resolution { compliance } groups { key firstResponse { met } } }
    serviceBacklog { open byStatus { status count } }
    serviceSatisfaction(from: "2026-01-01", to: "2026-01-31") { csat { score } nps { score } }
  }`);
  t.equal(res.status, 200, JSON.stringify(res.body.errors));
  const d = res.body.data as Record<string, any>;
  t.same(d.serviceResponseTimes.firstResponse, { count: 3, medianMinutes: 30, p90Minutes: 102 });
  t.equal(d.serviceSlaCompliance.resolution.compliance, 2 / 3);
  t.equal(d.serviceBacklog.open, 2);
  t.same(d.serviceSatisfaction, { csat: { score: 0.5 }, nps: { score: null } });
  const bad = await h.gql(admin, '{ serviceBacklog(to: "tomorrow") { open } }');
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
});

t.test('business-hours response times: each ticket in its SLA calendar, else the default one, else around the clock', async (t) => {
  // January's tickets have no policy and there is no default yet: business time is calendar time
  const jan = await get(`/v1/analytics/service/response-times?${JAN}`);
  t.same(jan.business, { firstResponse: jan.firstResponse, resolution: jan.resolution });

  const policy = async (o: object) => {
    const res = await h.request({ method: 'POST', url: '/v1/sla-policies', headers: admin.auth,
      payload: { name: `P ${randomUUID().slice(0, 6)}`, targets: [{ priority: 'normal', firstResponseMinutes: 60, resolutionMinutes: 600 }], ...o } });
    t.equal(res.statusCode, 201, res.body);
    return res.json().id as string;
  };
  // Riyadh (UTC+3), Sunday to Thursday 09:00–17:00, Tuesday 10 February a holiday
  const riyadh = await policy({ timeZone: 'Asia/Riyadh', businessHours: [0, 1, 2, 3, 4].map((day) => ({ day, start: '09:00', end: '17:00' })), holidays: ['2026-02-10'] });
  // T6: Thu 16:00 → Sun 09:30 local: 60 + 30 = 90 business minutes (3930 calendar); solved Mon 10:00: 60 + 480 + 60 = 600 (5400)
  await ticket({ created_at: '2026-02-05T13:00:00Z', first_responded_at: '2026-02-08T06:30:00Z', solved_at: '2026-02-09T07:00:00Z', status: 'solved', assignee_id: u1, sla_policy_id: riyadh });
  // T7: Mon 16:30 → Wed 09:10 local across the holiday: 30 + 0 + 10 = 40 (2440 calendar)
  await ticket({ created_at: '2026-02-09T13:30:00Z', first_responded_at: '2026-02-11T06:10:00Z', status: 'open', assignee_id: u1, sla_policy_id: riyadh });
  // T8: no policy, Fri 11:00Z → Mon 08:30Z: 4170 calendar minutes
  await ticket({ created_at: '2026-02-13T11:00:00Z', first_responded_at: '2026-02-16T08:30:00Z', status: 'open', assignee_id: u2 });
  const FEB = 'from=2026-02-01&to=2026-02-28';

  const before = await get(`/v1/analytics/service/response-times?${FEB}`);
  t.same(before.firstResponse, { count: 3, averageMinutes: 3513.33, medianMinutes: 3930, p90Minutes: 4122 });
  // 40, 90, 4170 (T8 around the clock): p90 = 90 + 0.8 × 4080
  t.same(before.business.firstResponse, { count: 3, averageMinutes: 1433.33, medianMinutes: 90, p90Minutes: 3354 });
  t.same(before.business.resolution, { count: 1, averageMinutes: 600, medianMinutes: 600, p90Minutes: 600 });
  t.same(before.resolution, { count: 1, averageMinutes: 5400, medianMinutes: 5400, p90Minutes: 5400 });

  // a default policy, Monday to Friday 08:00–12:00 UTC, now measures T8: Fri 60 + Mon 30 = 90
  await policy({ isDefault: true, timeZone: 'UTC', businessHours: [1, 2, 3, 4, 5].map((day) => ({ day, start: '08:00', end: '12:00' })) });
  const after = await get(`/v1/analytics/service/response-times?${FEB}&groupBy=assignee&interval=week`);
  t.same(after.business.firstResponse, { count: 3, averageMinutes: 73.33, medianMinutes: 90, p90Minutes: 90 });
  t.same(after.firstResponse, before.firstResponse, 'calendar time does not depend on calendars');
  const g = Object.fromEntries(after.groups.map((x: { key: string; business: { firstResponse: unknown } }) => [x.key, x.business.firstResponse]));
  t.same(g[u1], { count: 2, averageMinutes: 65, medianMinutes: 65, p90Minutes: 85 });
  t.same(g[u2], { count: 1, averageMinutes: 90, medianMinutes: 90, p90Minutes: 90 });
  t.same(after.series.map((s: { period: string; business: { firstResponse: { count: number; medianMinutes: number | null } } }) =>
    [s.period, s.business.firstResponse.count, s.business.firstResponse.medianMinutes]),
  [['2026-01-26', 0, null], ['2026-02-02', 1, 90], ['2026-02-09', 2, 65], ['2026-02-16', 0, null], ['2026-02-23', 0, null]]);

  const gql = await h.gql(h.user('support'), `{ serviceResponseTimes(${FEB.replace(/(\w+)=([\d-]+)/g, '$1: "$2"').replace('&', ', ')}) {
    business { firstResponse { medianMinutes p90Minutes } resolution { count } } } }`);
  t.same(gql.body.data?.serviceResponseTimes, { business: { firstResponse: { medianMinutes: 90, p90Minutes: 90 }, resolution: { count: 1 } } });
});

t.test('stored business times: the refresher stores what the figure measures, and a changed calendar makes them stale, not wrong', async (t) => {
  const FEB = 'from=2026-02-01&to=2026-02-28';
  const measured = await get(`/v1/analytics/service/response-times?${FEB}&groupBy=assignee`);
  t.ok(await refreshBusinessTimes(db) > 0, 'the refresher measured the tickets written with SQL');
  t.equal(await refreshBusinessTimes(db), 0, 'and has nothing left to do');
  const rowsOf = async <R>(q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: R[] }).rows;
  const [stored] = await rowsOf<{ fr: number; res: number }>(sql`SELECT business_first_response_minutes AS fr, business_resolution_minutes AS res
    FROM tickets WHERE created_at = '2026-02-05T13:00:00Z'`);
  t.same(stored, { fr: 90, res: 600 }, 'T6 in the Riyadh calendar, as hand-computed above');
  t.same(await get(`/v1/analytics/service/response-times?${FEB}&groupBy=assignee`), measured, 'the same figure from the stored values');

  // T8 (no policy) is measured in the default calendar: with the default policy deleted it is around the clock again
  const [def] = await rowsOf<{ id: string }>(sql`SELECT id FROM sla_policies WHERE is_default AND deleted_at IS NULL`);
  t.equal((await h.request({ method: 'DELETE', url: `/v1/sla-policies/${def?.id}`, headers: admin.auth })).statusCode, 204);
  const after = await get(`/v1/analytics/service/response-times?${FEB}`);
  t.same(after.business.firstResponse, { count: 3, averageMinutes: 1433.33, medianMinutes: 90, p90Minutes: 3354 }, 'T8 back to 4170 minutes before any refresh');
  t.equal(await refreshBusinessTimes(db), 4, 'only the tickets without a policy were stale: T8 and the three of January');
  t.same(await get(`/v1/analytics/service/response-times?${FEB}`), after);
});

