import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';

// deal_stage_history.previous_changed_at / next_changed_at (migration 0019) are kept by a trigger and
// read by stage duration and forecast accuracy instead of the history's window. Through every path
// that writes or alters history entries — REST and GraphQL moves, batches, reopen, delete/restore,
// SQL redating and deleting — each entry must hold its neighbours' changed_at in (changed_at, id) order.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');

async function made(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const res = await h.request({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} failed: ${res.body}`);
  return res.statusCode === 204 ? undefined : res.json();
}
async function gql(query: string, variables: Record<string, unknown>) {
  const r = await h.gql(admin, query, variables);
  if (r.body.errors?.length) throw new Error(JSON.stringify(r.body.errors));
  return r.body.data as Record<string, any>;
}

interface Entry { id: string; to: string; changed: string; previous: string | null; next: string | null }
/** A deal's entries in (changed_at, id) order with their stored links. */
async function entries(dealId: string): Promise<Entry[]> {
  const r = await db.execute(sql`SELECT id, to_stage_id AS to, changed_at::text AS changed, previous_changed_at::text AS previous, next_changed_at::text AS next
    FROM deal_stage_history WHERE deal_id = ${dealId} ORDER BY changed_at, id`);
  return (r as unknown as { rows: Entry[] }).rows;
}
/** Each entry's stored links against its neighbours; answers the entries for further checks. */
async function linked(t: Test, dealId: string, count: number, what: string): Promise<Entry[]> {
  const rows = await entries(dealId);
  t.equal(rows.length, count, `${what}: ${count} entries`);
  t.same(rows.map((r) => [r.previous, r.next]), rows.map((_, i) => [rows[i - 1]?.changed ?? null, rows[i + 1]?.changed ?? null]), `${what}: links`);
  return rows;
}

const p = await made('POST', '/v1/pipelines', {
  name: `Links ${randomUUID().slice(0, 6)}`,
  stages: [{ name: 'S1', probability: 20 }, { name: 'S2', probability: 50 }, { name: 'W', probability: 100, kind: 'won' }, { name: 'L', probability: 0, kind: 'lost' }],
});
const [S1, S2, W] = p.stages.map((s: { id: string }) => s.id) as [string, string, string, string];
const base = { pipelineId: p.id, amount: '10.00', currency: 'SAR' };

t.test('REST: create, moves, won, reopen, delete and restore', async (t) => {
  const d = await made('POST', '/v1/deals', { ...base, name: 'L REST', stageId: S1 });
  const [first] = await linked(t, d.id, 1, 'created');
  t.same([first!.previous, first!.next], [null, null], 'a lone entry links to nothing');
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: S2 });
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: W });
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: S2 });
  const rows = await linked(t, d.id, 4, 'moved, won and reopened');
  t.same(rows.map((r) => r.to), [S1, S2, W, S2]);
  await made('PATCH', `/v1/deals/${d.id}`, { name: 'L REST renamed' });
  await linked(t, d.id, 4, 'a change without a move adds no entry');
  await made('DELETE', `/v1/deals/${d.id}`);
  await made('POST', `/v1/deals/${d.id}/restore`);
  await linked(t, d.id, 4, 'deleted and restored');
});

t.test('GraphQL and batches write linked entries', async (t) => {
  const created = await gql('mutation($input: DealCreateInput!) { createDeal(input: $input) { id } }', { input: { ...base, name: 'L GQL', stageId: S1 } });
  const id = created.createDeal.id as string;
  await gql('mutation($id: ID!, $input: DealPatchInput!) { updateDeal(id: $id, input: $input) { id } }', { id, input: { stageId: S2 } });
  await linked(t, id, 2, 'GraphQL move');

  const batch = await made('POST', '/v1/deals/batch', { operation: 'create', records: [{ ...base, name: 'L B1', stageId: S1 }, { ...base, name: 'L B2', stageId: S1 }] });
  const [b1, b2] = batch.results.map((r: { id: string }) => r.id) as [string, string];
  await made('POST', '/v1/deals/batch', { operation: 'update', records: [{ id: b1, stageId: S2 }, { id: b2, stageId: W }] });
  await made('POST', '/v1/deals/batch', { operation: 'update', records: [{ id: b1, stageId: W }] });
  await linked(t, b1, 3, 'batch moves');
  await linked(t, b2, 2, 'batch move of the other deal');
  const g = await gql('mutation($records: [JSON!]!) { batchDeals(operation: update, records: $records) { status } }', { records: [{ id: b2, stageId: S1 }] });
  t.same(g.batchDeals, [{ status: 'updated' }]);
  await linked(t, b2, 3, 'GraphQL batch reopen');
});

t.test('SQL redating, reordering and deleting entries relinks the deal', async (t) => {
  const d = await made('POST', '/v1/deals', { ...base, name: 'L SQL', stageId: S1 });
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: S2 });
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: W });
  const other = await made('POST', '/v1/deals', { ...base, name: 'L SQL other', stageId: S1 });
  await made('PATCH', `/v1/deals/${other.id}`, { stageId: S2 });
  const before = await entries(other.id);

  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2026-01-01T00:00:00Z' WHERE deal_id = ${d.id} AND to_stage_id = ${S1}`);
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2026-01-05T00:00:00Z' WHERE deal_id = ${d.id} AND to_stage_id = ${S2}`);
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2026-01-15T00:00:00Z' WHERE deal_id = ${d.id} AND to_stage_id = ${W}`);
  let rows = await linked(t, d.id, 3, 'redated');
  t.same(rows.map((r) => [r.previous, r.next]), [
    [null, '2026-01-05 00:00:00+00'], ['2026-01-01 00:00:00+00', '2026-01-15 00:00:00+00'], ['2026-01-05 00:00:00+00', null],
  ]);
  // the won entry dated before S2's: the order of the entries changes, and every link with it
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2026-01-03T00:00:00Z' WHERE deal_id = ${d.id} AND to_stage_id = ${W}`);
  rows = await linked(t, d.id, 3, 'reordered');
  t.same(rows.map((r) => r.to), [S1, W, S2]);
  // entries at the same instant are ordered by id
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2026-01-01T00:00:00Z' WHERE deal_id = ${d.id}`);
  rows = await linked(t, d.id, 3, 'all at one instant');
  t.same(rows.map((r) => [r.previous, r.next]), [[null, rows[1]!.changed], [rows[0]!.changed, rows[2]!.changed], [rows[1]!.changed, null]]);

  await db.execute(sql`DELETE FROM deal_stage_history WHERE id = ${rows[1]!.id}`);
  await linked(t, d.id, 2, 'an entry deleted: its neighbours link to each other');
  // an entry moved to another deal relinks both deals
  await db.execute(sql`UPDATE deal_stage_history SET deal_id = ${other.id}, changed_at = '2030-01-01T00:00:00Z' WHERE id = ${rows[2]!.id}`);
  await linked(t, d.id, 1, 'the deal that lost an entry');
  const moved = await linked(t, other.id, 3, 'the deal that gained it');
  t.same(moved.slice(0, 2).map((r) => r.id), before.map((r) => r.id), 'the other deal kept its own entries');
});

t.test('stage duration follows a redated history at once', async (t) => {
  const d = await made('POST', '/v1/deals', { ...base, name: 'L figure', stageId: S1 });
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: S2 });
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2025-06-01T00:00:00Z' WHERE deal_id = ${d.id} AND to_stage_id = ${S1}`);
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2025-06-04T12:00:00Z' WHERE deal_id = ${d.id} AND to_stage_id = ${S2}`);
  const get = async () => (await h.request({ method: 'GET', url: `/v1/analytics/sales/stage-duration?from=2025-06-01&to=2025-06-30&pipelineId=${p.id}`, headers: admin.auth })).json();
  t.match((await get()).pipelines[0].stages[0], { stageId: S1, stays: 1, averageDays: 3.5 });
  await db.execute(sql`UPDATE deal_stage_history SET changed_at = '2025-06-03T00:00:00Z' WHERE deal_id = ${d.id} AND to_stage_id = ${S1}`);
  t.match((await get()).pipelines[0].stages[0], { stageId: S1, stays: 1, averageDays: 1.5 }, 'the stay is measured from the redated entry');
});
