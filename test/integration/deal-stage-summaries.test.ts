import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { callsAs } from '../helpers/calls-as.js';
import type { Executor } from '../../src/platform/db/client.js';
import { queryRows } from '../../src/platform/db/execute.js';

// The deal stage summaries (deal_stage_summaries, migration 0023) must equal a recount from the stage history
// and the deals after every kind of write: REST and GraphQL creates and stage moves, edits of the columns
// the funnel reads, delete and restore, batches, lead conversion, contact merges, concurrent writers and
// plain SQL on either table (entries inserted, redated, moved to another stage or deal, deleted, TRUNCATE).
// After each step the table is compared whole with the recount, and the deals touched are checked by value,
// so a summary that kept a stale row or missed a write fails here.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db as Executor;
const admin = h.user('admin');

const recount = sql`SELECT d.id AS deal_id, array_agg(DISTINCT x.to_stage_id ORDER BY x.to_stage_id) AS reached_stage_ids,
    array_agg(x.changed_at ORDER BY x.changed_at, x.id) AS entered_at, array_agg(x.to_stage_id ORDER BY x.changed_at, x.id) AS entered_stage_ids,
    d.created_at, d.amount, d.currency, d.expected_close_date, d.status, d.closed_at, d.owner_id, d.team_id, d.deleted_at
  FROM deal_stage_history x JOIN deals d ON d.id = x.deal_id GROUP BY d.id`;
const kept = sql`SELECT deal_id, reached_stage_ids, entered_at, entered_stage_ids, created_at, amount, currency, expected_close_date,
    status, closed_at, owner_id, team_id, deleted_at FROM deal_stage_summaries`;

/** Rows in one side and not the other, both ways: [] when the summaries are exact. */
async function drift(): Promise<unknown[]> {
  return (await queryRows(db, sql`(${kept} EXCEPT ${recount}) UNION ALL (${recount} EXCEPT ${kept})`)).rows;
}
type Reach = { stages: string[]; amount: string | null; currency: string | null; ownerId: string | null; deleted: boolean };
async function reachOf(dealId: string): Promise<Reach | null> {
  const { rows } = await queryRows<{ stage_ids: string[]; amount: string | null; currency: string | null; owner_id: string | null; deleted_at: Date | null }>(db,
    sql`SELECT reached_stage_ids AS stage_ids, amount::text AS amount, currency, owner_id, deleted_at FROM deal_stage_summaries WHERE deal_id = ${dealId}`);
  const r = rows[0];
  return r ? { stages: [...r.stage_ids].sort(), amount: r.amount, currency: r.currency, ownerId: r.owner_id, deleted: r.deleted_at !== null } : null;
}
const stagesOf = async (dealId: string) => (await reachOf(dealId))?.stages ?? [];
const sorted = (...ids: string[]) => [...new Set(ids)].sort();

const { send, ok, gql } = callsAs(h, admin);

const pipeline = await ok('POST', '/v1/pipelines', { name: `Reach ${randomUUID().slice(0, 6)}`, stages: [
  { name: 'New', probability: 10 }, { name: 'Qualified', probability: 30 }, { name: 'Proposal', probability: 60 },
  { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' },
] });
const [s0, s1, s2, won, lost] = (pipeline.stages as { id: string }[]).map((s) => s.id) as [string, string, string, string, string];
const deal = async (o: Record<string, unknown> = {}) =>
  (await ok('POST', '/v1/deals', { name: `D ${randomUUID().slice(0, 6)}`, pipelineId: pipeline.id, stageId: s0, amount: '100.00', currency: 'SAR', ...o })).id as string;

t.test('REST: create, stage moves, edits of the funnel columns, delete and restore', async (t) => {
  const id = await deal();
  t.same(await reachOf(id), { stages: [s0], amount: '100.0000', currency: 'SAR', ownerId: admin.id, deleted: false }, 'the creation entry');
  await ok('PATCH', `/v1/deals/${id}`, { stageId: s2 });
  t.same(await stagesOf(id), sorted(s0, s2), 'a move adds the stage entered');
  await ok('PATCH', `/v1/deals/${id}`, { stageId: s1 });
  await ok('PATCH', `/v1/deals/${id}`, { stageId: s2 });
  t.same(await stagesOf(id), sorted(s0, s1, s2), 'entered twice: once in the set');
  await ok('PATCH', `/v1/deals/${id}`, { amount: '250.50', currency: 'AED', ownerId: null });
  t.same(await reachOf(id), { stages: sorted(s0, s1, s2), amount: '250.5000', currency: 'AED', ownerId: null, deleted: false }, 'edits copied');
  await ok('PATCH', `/v1/deals/${id}`, { expectedCloseDate: '2026-09-30' });
  t.same(await drift(), [], 'the expected close date copied');
  await ok('PATCH', `/v1/deals/${id}`, { amount: null });
  t.equal((await reachOf(id))?.amount, null, 'amount cleared');
  await ok('PATCH', `/v1/deals/${id}`, { stageId: lost, lostReason: 'price' });
  t.same(await stagesOf(id), sorted(s0, s1, s2, lost));
  await ok('DELETE', `/v1/deals/${id}`);
  t.equal((await reachOf(id))?.deleted, true, 'deleted');
  await ok('POST', `/v1/deals/${id}/restore`);
  t.equal((await reachOf(id))?.deleted, false, 'restored');
  t.same(await drift(), []);
});

t.test('GraphQL: create, stage move, update, delete, restore and batch', async (t) => {
  const made = await gql('mutation($input: DealCreateInput!) { createDeal(input: $input) { id } }',
    { input: { name: 'G', pipelineId: pipeline.id, stageId: s1, amount: '5.500', currency: 'KWD' } });
  const id = (made.createDeal as { id: string }).id;
  t.same(await stagesOf(id), [s1]);
  await gql('mutation($id: ID!, $input: DealPatchInput!) { updateDeal(id: $id, input: $input) { id } }', { id, input: { stageId: won } });
  t.same(await stagesOf(id), sorted(s1, won));
  await gql('mutation($id: ID!, $input: DealPatchInput!) { updateDeal(id: $id, input: $input) { id } }', { id, input: { amount: '6.000' } });
  t.equal((await reachOf(id))?.amount, '6.0000');
  await gql('mutation($id: ID!) { deleteDeal(id: $id) }', { id });
  t.equal((await reachOf(id))?.deleted, true);
  await gql('mutation($id: ID!) { restoreDeal(id: $id) { id } }', { id });
  t.equal((await reachOf(id))?.deleted, false);
  await gql('mutation($records: [JSON!]!) { batchDeals(operation: update, records: $records) { status } }',
    { records: [{ id, stageId: s2 }] });
  t.same(await stagesOf(id), sorted(s1, won, s2), 'a batch update that moves the stage');
  t.same(await drift(), []);
});

t.test('REST batches: create, update (stage moves) and delete', async (t) => {
  const batch = (body: Record<string, unknown>) => ok('POST', '/v1/deals/batch', body);
  const out = await batch({ operation: 'create', records: [
    { name: 'B1', pipelineId: pipeline.id, stageId: s0, amount: '1.00', currency: 'SAR' },
    { name: 'B2', pipelineId: pipeline.id, stageId: s1, amount: '2.00', currency: 'USD' },
  ] });
  const ids = (out.results as { id: string }[]).map((r) => r.id);
  t.equal(ids.length, 2);
  await batch({ operation: 'update', records: [{ id: ids[0], stageId: s2 }, { id: ids[1], stageId: won, amount: '3.00' }] });
  t.same(await stagesOf(ids[0] as string), sorted(s0, s2));
  t.same(await reachOf(ids[1] as string), { stages: sorted(s1, won), amount: '3.0000', currency: 'USD', ownerId: admin.id, deleted: false });
  await batch({ operation: 'delete', records: [{ id: ids[0] }, { id: ids[1] }] });
  t.same([(await reachOf(ids[0] as string))?.deleted, (await reachOf(ids[1] as string))?.deleted], [true, true]);
  t.same(await drift(), []);
});

t.test('lead conversion and contact merge', async (t) => {
  const lead = await ok('POST', '/v1/leads', { firstName: 'Lead', email: `${randomUUID().slice(0, 8)}@reach.example` });
  const res = await send('POST', `/v1/leads/${lead.id}/convert`, { dealName: 'From lead', pipelineId: pipeline.id, amount: '9.00', currency: 'SAR' });
  t.equal(res.statusCode < 300, true, res.body);
  const converted = (res.json() as { deal: { id: string; stageId: string } }).deal;
  t.same(await stagesOf(converted.id), [converted.stageId], 'the converted deal\'s creation entry');
  const [p, d] = [await ok('POST', '/v1/contacts', { email: `${randomUUID().slice(0, 8)}@reach.example` }), await ok('POST', '/v1/contacts', { email: `${randomUUID().slice(0, 8)}@reach.example` })];
  const linked = await deal({ contactIds: [d.id] });
  await ok('POST', '/v1/contacts/merge', { primaryId: p.id, duplicateIds: [d.id] });
  t.same(await stagesOf(linked), [s0], 'a merge moves links, not history');
  t.same(await drift(), []);
});

t.test('concurrent writers of one deal: no recount overwrites another', async (t) => {
  const id = await deal();
  const all = [s0, s1, s2, won, lost];
  await Promise.all(Array.from({ length: 20 }, (_, i) => db.execute(sql`INSERT INTO deal_stage_history (id, deal_id, from_stage_id, to_stage_id, changed_at)
    VALUES (${randomUUID()}, ${id}, ${s0}, ${all[i % all.length]}, ${new Date(Date.UTC(2026, 0, 1 + i)).toISOString()})`)));
  t.same(await stagesOf(id), sorted(...all), 'every concurrently inserted stage is in the set');
  await Promise.all([
    ...[1, 2, 3, 4].map((i) => db.execute(sql`UPDATE deals SET amount = ${i * 10} WHERE id = ${id} AND amount IS NOT NULL`)),
    ...[0, 1].map(() => db.execute(sql`INSERT INTO deal_stage_history (id, deal_id, to_stage_id) VALUES (${randomUUID()}, ${id}, ${s1})`)),
  ]);
  t.same(await drift(), [], 'concurrent column edits and history writes agree with the recount');
});

t.test('plain SQL on the history and the deals, and TRUNCATE', async (t) => {
  const [a, b] = [await deal(), await deal()];
  const entry = randomUUID();
  await db.execute(sql`INSERT INTO deal_stage_history (id, deal_id, from_stage_id, to_stage_id, changed_at)
    VALUES (${entry}, ${a}, ${s0}, ${s1}, '2026-02-01T00:00:00Z')`);
  t.same(await stagesOf(a), sorted(s0, s1));
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = changed_at - interval '30 days' WHERE deal_id = ${a}`);
  t.same(await stagesOf(a), sorted(s0, s1), 'redated: same set');
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2020-01-01T00:00:00Z' WHERE id = ${entry}`);
  const path = (await queryRows<{ ids: string[] }>(db, sql`SELECT entered_stage_ids AS ids FROM deal_stage_summaries WHERE deal_id = ${a}`)).rows[0]?.ids;
  t.same(path, [s1, s0], 'redated before the creation entry: the path follows the times');
  t.same(await drift(), []);
  await db.execute(sql`UPDATE deal_stage_history SET to_stage_id = ${s2} WHERE id = ${entry}`);
  t.same(await stagesOf(a), sorted(s0, s2), 'an entry moved to another stage');
  await db.execute(sql`UPDATE deal_stage_history SET deal_id = ${b} WHERE id = ${entry}`);
  t.same([await stagesOf(a), await stagesOf(b)], [[s0], sorted(s0, s2)], 'an entry moved to another deal: both follow');
  await db.execute(sql`UPDATE deals SET currency = 'EUR', owner_id = NULL, deleted_at = now() WHERE id = ${b}`);
  t.same(await reachOf(b), { stages: sorted(s0, s2), amount: '100.0000', currency: 'EUR', ownerId: null, deleted: true });
  await db.execute(sql`UPDATE deals SET position = position + 1 WHERE id IN (${a}, ${b})`);
  await db.execute(sql`DELETE FROM deal_stage_history WHERE id = ${entry}`);
  t.same(await stagesOf(b), [s0], 'an entry deleted');
  await db.execute(sql`DELETE FROM deal_stage_history WHERE deal_id = ${a}`);
  t.equal(await reachOf(a), null, 'no history left: no row');
  t.same(await drift(), []);
  t.ok(Number((await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM deal_stage_summaries`)).rows[0]?.n) > 0);
  await db.execute(sql`TRUNCATE deal_stage_history`);
  t.same((await queryRows(db, sql`SELECT 1 FROM deal_stage_summaries`)).rows, [], 'truncated');
});
