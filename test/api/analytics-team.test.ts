import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestUser } from '../helpers/app.js';

// Team performance (docs/metrics.md "Team performance"): two sales reps in two teams with won deals in
// two currencies, activities and solved tickets; parts per role, a rep's own/team scope, REST and GraphQL.

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

const team1 = await made('POST', '/v1/teams', { name: `T1 ${randomUUID().slice(0, 6)}` });
const team2 = await made('POST', '/v1/teams', { name: `T2 ${randomUUID().slice(0, 6)}` });
const user = (name: string, teamId: string) => made('POST', '/v1/users', { email: `${name}-${randomUUID().slice(0, 8)}@p.example`, password: `pw-${randomUUID()}`, name, role: 'sales', teamIds: [teamId] });
const [userA, userB] = [await user('a', team1.id), await user('b', team2.id)];
const A = { ownerId: userA.id, teamId: team1.id };
const B = { ownerId: userB.id, teamId: team2.id };

const p = await made('POST', '/v1/pipelines', { name: 'TP', stages: [{ name: 'Q', probability: 10 }, { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' }] });
const [q, won, lost] = p.stages.map((s: { id: string }) => s.id) as [string, string, string];
async function deal(o: object, to: 'won' | 'lost') {
  const d = await made('POST', '/v1/deals', { name: 'D', pipelineId: p.id, stageId: q, ...o });
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: to === 'won' ? won : lost, ...(to === 'lost' ? { lostReason: 'x' } : {}) });
}
await deal({ amount: '100.00', currency: 'SAR', ...A }, 'won');
await deal({ amount: '1.000', currency: 'KWD', ...A }, 'won');
await deal({ amount: '7.00', currency: 'SAR', ...A }, 'lost');
await deal({ amount: '50.00', currency: 'SAR', ...B }, 'won');
for (const o of [A, A, B]) await made('POST', '/v1/activities', { type: 'call', subject: 'c', ...o });

const requester = (await made('POST', '/v1/contacts', { email: `${randomUUID().slice(0, 8)}@p.example` })).id as string;
async function ticket(assignee: string, teamId: string, createdAgoMin: number, responseMin: number, solved: boolean) {
  await db.execute(sql`INSERT INTO tickets (id, subject, requester_id, assignee_id, team_id, created_at, first_responded_at, solved_at, status)
    VALUES (${randomUUID()}, 'T', ${requester}, ${assignee}, ${teamId}, now() - ${`${createdAgoMin} minutes`}::interval,
            now() - ${`${createdAgoMin - responseMin} minutes`}::interval, ${solved ? sql`now()` : sql`NULL`}, ${solved ? 'solved' : 'open'})`);
}
await ticket(userA.id, team1.id, 30, 10, true);
await ticket(userA.id, team1.id, 120, 60, false);
await ticket(userB.id, team2.id, 20, 5, true);

const byKey = (body: { members: { key: string | null }[] }) => Object.fromEntries(body.members.map((m) => [m.key ?? 'none', m]));
const EXPECTED_A = {
  key: userA.id, dealsWon: 2, wonAmount: [{ currency: 'KWD', amount: '1.000' }, { currency: 'SAR', amount: '100.00' }],
  activities: 2, ticketsSolved: 1, medianFirstResponseMinutes: 35,
};
const EXPECTED_B = { key: userB.id, dealsWon: 1, wonAmount: [{ currency: 'SAR', amount: '50.00' }], activities: 1, ticketsSolved: 1, medianFirstResponseMinutes: 5 };

t.test('per owner and per team', async (t) => {
  const res = await call('/v1/analytics/team/performance');
  t.equal(res.statusCode, 200, res.body);
  const m = byKey(res.json());
  t.same(m[userA.id], EXPECTED_A);
  t.same(m[userB.id], EXPECTED_B);
  const teams = byKey((await call('/v1/analytics/team/performance?groupBy=team')).json());
  t.same(teams[team2.id], { ...EXPECTED_B, key: team2.id });
  const none = (await call('/v1/analytics/team/performance?to=2020-01-01')).json();
  t.same(none.members, []);
});

t.test('parts per role, a rep sees own and team figures, 401 without token', async (t) => {
  const rep = (await call('/v1/analytics/team/performance', h.user('sales', { id: userA.id, teamIds: [team1.id] }))).json();
  t.same(rep.members, [EXPECTED_A]);
  const supportRes = await call('/v1/analytics/team/performance', h.user('support'));
  t.equal(supportRes.statusCode, 200, supportRes.body);
  const support = byKey(supportRes.json());
  t.same(support[userB.id], { key: userB.id, dealsWon: null, wonAmount: null, activities: null, ticketsSolved: 1, medianFirstResponseMinutes: 5 });
  t.equal((await call('/v1/analytics/team/performance', h.user('marketing'))).statusCode, 403);
  t.equal((await call('/v1/analytics/team/performance', null)).statusCode, 401);
  t.equal((await call('/v1/analytics/team/performance?groupBy=pipeline')).statusCode, 400);
});

t.test('GraphQL', async (t) => {
  const res = await h.gql(admin, '{ teamPerformance(groupBy: owner) { groupBy members { key dealsWon wonAmount { currency amount } activities ticketsSolved medianFirstResponseMinutes } } }');
  t.equal(res.status, 200, JSON.stringify(res.body.errors));
  const m = byKey(res.body.data?.teamPerformance);
  t.same(m[userA.id], EXPECTED_A);
  const refused = await h.gql(h.user('marketing'), '{ teamPerformance { groupBy } }');
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden');
});
