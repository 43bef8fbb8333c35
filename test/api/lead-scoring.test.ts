import { randomUUID } from 'node:crypto';
import t from 'tap';
import { eq, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { createModules } from '../../src/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';
import { queryRows } from '../../src/platform/db/execute.js';

// Lead scores (API.md §5): the sum of the enabled scoring rules, computed by the database on every
// lead write, activity write and rule write, and hourly so activity windows age out. Rules over REST
// and GraphQL; scores filter and sort.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const manager = h.user('manager');
const DAY = 86_400_000;

type Who = { auth: Record<string, string> };
const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, who: Who = admin, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...who.auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
async function created(url: string, body: Record<string, unknown>, who: Who = admin) {
  const res = await send('POST', url, body, who);
  if (res.statusCode !== 201) throw new Error(`POST ${url} failed: ${res.body}`);
  return res.json();
}
const scoreOf = async (id: string) => (await send('GET', `/v1/leads/${id}`)).json().score as number;
const rule = (body: Record<string, unknown>, who: Who = admin) => created('/v1/scoring-rules', body, who);
const activity = (leadId: string, body: Record<string, unknown> = {}) =>
  created('/v1/activities', { type: 'email', direction: 'inbound', subject: 'Re: pricing', leadId, ...body });

t.test('a field rule scores matching leads at once, and follows lead and rule changes', async (t) => {
  const src = `webinar-${randomUUID().slice(0, 6)}`;
  const match = await created('/v1/leads', { firstName: 'Webby', source: src });
  const other = await created('/v1/leads', { firstName: 'Fairy', source: 'fair' });
  t.equal(match.score, 0);
  const r = await rule({ name: 'webinar attendees', kind: 'field', points: 15, filter: { source: { eq: src } } });
  t.match(r, { enabled: true, kind: 'field', points: 15, filter: { source: { eq: src } }, activityType: null, withinDays: null, version: 1 });
  t.equal(await scoreOf(match.id), 15, 'creating the rule rescored the lead');
  t.equal(await scoreOf(other.id), 0);

  const late = await created('/v1/leads', { firstName: 'Late', source: src });
  t.equal(late.score, 15, 'a new lead is scored in its create');
  const moved = await send('PATCH', `/v1/leads/${late.id}`, { source: 'fair' });
  t.equal(moved.json().score, 0, 'an update rescores in its own response');

  await send('PATCH', `/v1/scoring-rules/${r.id}`, { points: -5 });
  t.equal(await scoreOf(match.id), -5, 'negative points');
  await send('PATCH', `/v1/scoring-rules/${r.id}`, { enabled: false });
  t.equal(await scoreOf(match.id), 0, 'a disabled rule counts nothing');
  await send('PATCH', `/v1/scoring-rules/${r.id}`, { enabled: true, points: 7 });
  t.equal(await scoreOf(match.id), 7);

  const before = await db.select().from(auditLogs).where(eq(auditLogs.entityId, match.id));
  const evs = await db.select().from(events).where(eq(events.entityId, match.id));
  t.equal(before.length, 1, 'rescoring writes no audit row for the lead (derived data)');
  t.same(evs.map((e) => e.type), ['lead.created'], 'and emits no lead event');
  t.equal((await send('GET', `/v1/leads/${match.id}`)).json().version, 1, 'nor bumps its version');

  t.equal((await send('DELETE', `/v1/scoring-rules/${r.id}`)).statusCode, 204);
  t.equal(await scoreOf(match.id), 0, 'deleting the rule rescored');
  t.equal((await send('GET', `/v1/scoring-rules/${r.id}`)).statusCode, 404);
});

t.test('a field rule over a custom field', async (t) => {
  await created('/v1/custom-fields', { entity: 'lead', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] });
  const gold = await created('/v1/leads', { firstName: 'Goldie', custom: { tier: 'gold' } });
  const silver = await created('/v1/leads', { firstName: 'Silvia', custom: { tier: 'silver' } });
  const r = await rule({ name: 'gold tier', kind: 'field', points: 30, filter: { 'custom.tier': { in: ['gold'] } } });
  t.equal(await scoreOf(gold.id), 30);
  t.equal(await scoreOf(silver.id), 0);
  t.equal((await send('PATCH', `/v1/leads/${silver.id}`, { custom: { tier: 'gold' } })).json().score, 30);
  await send('DELETE', `/v1/scoring-rules/${r.id}`);
});

t.test('an activity rule adds points per matching activity in its window; deleting the activity takes them back', async (t) => {
  const lead = await created('/v1/leads', { firstName: 'Mailer' });
  const r = await rule({ name: 'inbound email', kind: 'activity', points: 10, activityType: 'email', direction: 'inbound', withinDays: 30 });
  t.match(r, { kind: 'activity', activityType: 'email', direction: 'inbound', withinDays: 30, filter: null });
  t.equal(await scoreOf(lead.id), 0);

  const first = await activity(lead.id);
  t.equal(await scoreOf(lead.id), 10, 'an inbound email raises the score by the rule\'s points');
  const second = await activity(lead.id, { occurredAt: new Date(Date.now() - 5 * DAY).toISOString() });
  t.equal(await scoreOf(lead.id), 20, 'per activity');
  await activity(lead.id, { direction: 'outbound' });
  await activity(lead.id, { type: 'call' });
  await activity(lead.id, { occurredAt: new Date(Date.now() - 40 * DAY).toISOString() });
  await activity(lead.id, { occurredAt: new Date(Date.now() + 2 * DAY).toISOString() });
  t.equal(await scoreOf(lead.id), 20, 'outbound, other types, activities outside the window and planned ones do not count');

  t.equal((await send('DELETE', `/v1/activities/${first.id}`)).statusCode, 204);
  t.equal(await scoreOf(lead.id), 10, 'deleting the activity lowers the score back');
  const other = await created('/v1/leads', { firstName: 'Other' });
  await send('PATCH', `/v1/activities/${second.id}`, { leadId: other.id });
  t.equal(await scoreOf(lead.id), 0, 'moving the activity rescores the lead it left');
  t.equal(await scoreOf(other.id), 10, 'and the lead it joined');

  // Time passes with no write: the hourly worker lowers scores whose activities aged out of the window.
  await queryRows(db, sql`UPDATE activities SET occurred_at = now() - interval '31 days' WHERE id = ${second.id}`);
  t.equal(await scoreOf(other.id), 10, 'stale until the worker runs');
  const modules = createModules({ config: h.config, db, signAccessToken: () => 'unused' });
  const worker = modules.all.flatMap((m) => m.workers ?? []).find((w) => w.name === 'lead rescoring');
  t.equal(worker?.intervalMs, 3_600_000);
  t.ok((await worker!.run(db)) >= 1, 'the worker reports the leads it changed');
  t.equal(await scoreOf(other.id), 0, 'the aged-out activity no longer counts');
  await send('DELETE', `/v1/scoring-rules/${r.id}`);
});

t.test('score filters and sorts', async (t) => {
  const tag = randomUUID().slice(0, 8);
  const r = await rule({ name: 'scored source', kind: 'field', points: 40, filter: { source: { eq: `hot-${tag}` } } });
  const r2 = await rule({ name: 'scored name', kind: 'field', points: 5, filter: { lastName: { eq: tag } } });
  const hot = await created('/v1/leads', { firstName: 'Hot', lastName: tag, source: `hot-${tag}` });
  const warm = await created('/v1/leads', { firstName: 'Warm', lastName: tag });
  t.same([hot.score, warm.score], [45, 5]);
  const sorted = await h.request({ method: 'GET', url: '/v1/leads', headers: admin.auth, query: { 'filter[lastName][eq]': tag, sort: '-score' } });
  t.same(sorted.json().data.map((l: { id: string }) => l.id), [hot.id, warm.id]);
  const asc = await h.request({ method: 'GET', url: '/v1/leads', headers: admin.auth, query: { 'filter[lastName][eq]': tag, sort: 'score', limit: '1' } });
  t.same(asc.json().data.map((l: { id: string }) => l.id), [warm.id]);
  const next = await h.request({ method: 'GET', url: '/v1/leads', headers: admin.auth, query: { 'filter[lastName][eq]': tag, sort: 'score', limit: '1', cursor: asc.json().nextCursor } });
  t.same(next.json().data.map((l: { id: string }) => l.id), [hot.id], 'keyset paging by score');
  const count = await h.request({ method: 'GET', url: '/v1/leads/count', headers: admin.auth, query: { 'filter[lastName][eq]': tag, 'filter[score][gte]': '40' } });
  t.equal(count.json().count, 1);
  const gql = await h.gql(admin, `query($f: LeadFilter) { leads(filter: $f, sort: [{field: score, direction: DESC}]) { edges { node { id score } } } }`,
    { f: { lastName: { eq: tag }, score: { gt: 10 } } });
  t.same(gql.body.data?.leads.edges.map((e: { node: { id: string } }) => e.node), [{ id: hot.id, score: 45 }]);
  await send('DELETE', `/v1/scoring-rules/${r.id}`);
  await send('DELETE', `/v1/scoring-rules/${r2.id}`);
});

t.test('rule validation: filters checked against lead fields, kinds, ranges; 412 when stale', async (t) => {
  const bad = async (body: Record<string, unknown>) => {
    const res = await send('POST', '/v1/scoring-rules', body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    return (res.json().errors ?? []).map((e: { path: string }) => e.path).sort();
  };
  t.same(await bad({ name: 'x', kind: 'field', points: 1, filter: { nickname: { eq: 'x' } } }), ['filter.nickname']);
  t.same(await bad({ name: 'x', kind: 'field', points: 1, filter: { score: { gt: 1 } } }), ['filter.score'], 'a score may not depend on itself');
  t.same(await bad({ name: 'x', kind: 'field', points: 1, filter: { status: { eq: 'hot' } } }), ['filter.status.eq']);
  t.same(await bad({ name: 'x', kind: 'field', points: 1, filter: { 'custom.nope': { eq: 'x' } } }), ['filter.custom.nope']);
  t.same(await bad({ name: 'x', kind: 'field', points: 1 }), ['filter']);
  t.same(await bad({ name: 'x', kind: 'field', points: 1, filter: { source: { eq: 'a' } }, withinDays: 3 }), ['withinDays']);
  t.same(await bad({ name: 'x', kind: 'activity', points: 1 }), ['withinDays']);
  t.same(await bad({ name: 'x', kind: 'activity', points: 1, withinDays: 0, activityType: 'fax' }), ['activityType', 'withinDays']);
  t.same(await bad({ name: 'x', kind: 'activity', points: 1001, withinDays: 5 }), ['points']);
  t.same(await bad({ name: 'x', kind: 'activity', points: 1, withinDays: 5, version: 3 }), ['version']);

  const r = await rule({ name: 'versioned', kind: 'activity', points: 1, withinDays: 5 }, manager);
  t.equal((await send('PATCH', `/v1/scoring-rules/${r.id}`, { points: 2 }, admin, { 'if-match': '"1"' })).statusCode, 200);
  const stale = await send('PATCH', `/v1/scoring-rules/${r.id}`, { points: 3 }, admin, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { points: 2, version: 2 } });
  const toField = await send('PATCH', `/v1/scoring-rules/${r.id}`, { kind: 'field' });
  t.equal(toField.statusCode, 400, 'a kind change must bring what the new kind needs');
  const list = await send('GET', '/v1/scoring-rules?filter[kind][eq]=activity');
  t.ok(list.json().data.some((x: { id: string }) => x.id === r.id));
  await send('DELETE', `/v1/scoring-rules/${r.id}`);
});

t.test('who may write rules: admin and manager; every other role reads', async (t) => {
  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    const who = h.user(role);
    const res = await send('POST', '/v1/scoring-rules', { name: 'x', kind: 'activity', points: 1, withinDays: 5 }, who);
    t.equal(res.statusCode, 403, `${role} may not create`);
    t.equal((await send('GET', '/v1/scoring-rules', undefined, who)).statusCode, 200, `${role} reads`);
  }
});

t.test('GraphQL: scoring rules with the same rules and errors as REST', async (t) => {
  const CREATE = `mutation($input: ScoringRuleCreateInput!) { createScoringRule(input: $input) { id kind points direction withinDays enabled version } }`;
  const made = await h.gql(admin, CREATE, { input: { name: 'gql calls', kind: 'activity', points: 3, activityType: 'call', direction: 'outbound', withinDays: 7 } });
  t.same(made.body.errors, undefined);
  const r = made.body.data?.createScoringRule;
  t.match(r, { kind: 'activity', points: 3, direction: 'outbound', withinDays: 7, enabled: true, version: 1 });
  const all = await h.gql(h.user('viewer'), '{ scoringRules { id name } }');
  t.ok(all.body.data?.scoringRules.some((x: { id: string }) => x.id === r.id));
  t.equal((await h.gql(admin, 'query($id: ID!) { scoringRule(id: $id) { name } }', { id: r.id })).body.data?.scoringRule.name, 'gql calls');
  const upd = await h.gql(admin, 'mutation($id: ID!, $v: Int) { updateScoringRule(id: $id, input: {points: 4}, expectedVersion: $v) { points version } }', { id: r.id, v: 1 });
  t.same(upd.body.data?.updateScoringRule, { points: 4, version: 2 });
  const stale = await h.gql(admin, 'mutation($id: ID!) { updateScoringRule(id: $id, input: {points: 5}, expectedVersion: 1) { points } }', { id: r.id });
  t.equal(stale.body.errors?.[0]?.extensions.code, 'version_conflict');
  const invalid = await h.gql(admin, CREATE, { input: { name: 'bad', kind: 'field', points: 1, filter: { nickname: { eq: 'x' } } } });
  t.equal(invalid.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.match(invalid.body.errors?.[0]?.extensions.errors, [{ path: 'filter.nickname' }]);
  const refused = await h.gql(h.user('sales'), CREATE, { input: { name: 'x', kind: 'activity', points: 1, withinDays: 2 } });
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden');
  const del = await h.gql(admin, 'mutation($id: ID!) { deleteScoringRule(id: $id) }', { id: r.id });
  t.equal(del.body.data?.deleteScoringRule, true);
  t.equal((await h.gql(admin, 'query($id: ID!) { scoringRule(id: $id) { id } }', { id: r.id })).body.errors?.[0]?.extensions.code, 'not_found');
});
