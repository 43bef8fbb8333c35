import { randomUUID } from 'node:crypto';
import t from 'tap';
import { and, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';

// The kanban board: positions within a stage on create, reorder, move, delete and restore; the stage
// history with time in stage; and concurrent moves that must leave every stage numbered 0..n-1.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const manager = h.user('manager');

const post = (url: string, body: unknown, who = admin) => h.request({ method: 'POST', url, headers: who.auth, payload: body as object });
const patch = (id: string, body: unknown, who = admin) => h.request({ method: 'PATCH', url: `/v1/deals/${id}`, headers: who.auth, payload: body as object });
const get = (id: string) => h.request({ method: 'GET', url: `/v1/deals/${id}`, headers: admin.auth });

async function newPipeline(name: string) {
  const res = await post('/v1/pipelines', { name, stages: [{ name: 'One', probability: 10 }, { name: 'Two', probability: 50 }, { name: 'Won', probability: 100, kind: 'won' }] });
  if (res.statusCode !== 201) throw new Error(res.body);
  const p = res.json();
  return { id: p.id as string, s1: p.stages[0].id as string, s2: p.stages[1].id as string, won: p.stages[2].id as string };
}

async function deal(p: { id: string }, stageId: string, name: string, position?: number) {
  const res = await post('/v1/deals', { pipelineId: p.id, stageId, name, ...(position === undefined ? {} : { position }) });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json() as { id: string; name: string; position: number; version: number };
}

/** The stage's cards as [name, position], in position order. */
async function board(stageId: string): Promise<[string, number][]> {
  const res = await h.request({ method: 'GET', url: '/v1/deals', headers: admin.auth, query: { 'filter[stageId][eq]': stageId, sort: 'position', limit: '200' } });
  return res.json().data.map((d: { name: string; position: number }) => [d.name, d.position]);
}
const names = async (stageId: string) => (await board(stageId)).map(([n]) => n);
const clean = (cards: [string, number][]) => cards.every(([, p], i) => p === i);

t.test('new deals go to the end, or at position with the rest shifted down; positions clamp', async (t) => {
  const p = await newPipeline('Create order');
  for (const n of ['A', 'B', 'C']) await deal(p, p.s1, n);
  const d = await deal(p, p.s1, 'D', 1);
  t.equal(d.position, 1);
  t.same(await board(p.s1), [['A', 0], ['D', 1], ['B', 2], ['C', 3]]);
  const e = await deal(p, p.s1, 'E', 99);
  t.equal(e.position, 4, 'a position past the end is the end');
  const f = await deal(p, p.s1, 'F', 0);
  t.equal(f.position, 0);
  t.same(await names(p.s1), ['F', 'A', 'D', 'B', 'C', 'E']);
  t.ok(clean(await board(p.s1)));
  const neg = await post('/v1/deals', { pipelineId: p.id, stageId: p.s1, name: 'Neg', position: -1 });
  t.equal(neg.statusCode, 400);
});

t.test('reorder within a stage and move across stages; neighbours keep their version and get no audit row', async (t) => {
  const p = await newPipeline('Moves');
  const [a, b, c, d] = [await deal(p, p.s1, 'A'), await deal(p, p.s1, 'B'), await deal(p, p.s1, 'C'), await deal(p, p.s1, 'D')];
  const x = await deal(p, p.s2, 'X');

  const up = (await patch(c!.id, { position: 0 })).json();
  t.match(up, { position: 0, version: 2 });
  t.same(await names(p.s1), ['C', 'A', 'B', 'D']);
  t.same(await board(p.s1), [['C', 0], ['A', 1], ['B', 2], ['D', 3]]);
  t.equal((await get(a!.id)).json().version, 1, 'a neighbour moved without a new version');
  const neighbourAudits = await db.select().from(auditLogs).where(and(eq(auditLogs.entityId, a!.id), eq(auditLogs.action, 'update')));
  t.equal(neighbourAudits.length, 0, 'and without an audit row');

  await patch(c!.id, { position: 99 });
  t.same(await board(p.s1), [['A', 0], ['B', 1], ['D', 2], ['C', 3]], 'a position past the end clamps to the last place');

  const moved = (await patch(b!.id, { stageId: p.s2, position: 0 })).json();
  t.match(moved, { stageId: p.s2, position: 0 });
  t.same(await board(p.s1), [['A', 0], ['D', 1], ['C', 2]], 'the gap closed in the old stage');
  t.same(await board(p.s2), [['B', 0], ['X', 1]], 'a place opened in the new one');

  const toEnd = (await patch(d!.id, { stageId: p.s2 })).json();
  t.equal(toEnd.position, 2, 'moved without a position: to the end');
  t.equal((await get(x.id)).json().version, 1);

  const same = await patch(a!.id, { stageId: p.s1, position: 0 });
  t.equal(same.json().version, 1, 'the same place is no change');
});

t.test('delete closes the gap; restore comes back at the end', async (t) => {
  const p = await newPipeline('Delete order');
  const [a] = [await deal(p, p.s1, 'A'), await deal(p, p.s1, 'B'), await deal(p, p.s1, 'C')];
  t.equal((await h.request({ method: 'DELETE', url: `/v1/deals/${a!.id}`, headers: admin.auth })).statusCode, 204);
  t.same(await board(p.s1), [['B', 0], ['C', 1]]);
  const restored = await post(`/v1/deals/${a!.id}/restore`, undefined);
  t.match(restored.json(), { position: 2, deletedAt: null });
  t.same(await board(p.s1), [['B', 0], ['C', 1], ['A', 2]]);
});

t.test('history: a creation entry, one per stage change with the time spent, newest first, paged', async (t) => {
  const p = await newPipeline('History');
  const d = await deal(p, p.s1, 'H');
  await new Promise((r) => setTimeout(r, 60));
  await patch(d.id, { stageId: p.s2 });
  await patch(d.id, { name: 'H renamed', position: 0 });
  await new Promise((r) => setTimeout(r, 60));
  await patch(d.id, { stageId: p.won });

  const res = await h.request({ method: 'GET', url: `/v1/deals/${d.id}/history`, headers: admin.auth });
  t.equal(res.statusCode, 200);
  const { data, nextCursor } = res.json();
  t.equal(nextCursor, null);
  t.match(data, [
    { fromStageId: p.s2, toStageId: p.won, changedBy: admin.id },
    { fromStageId: p.s1, toStageId: p.s2, changedBy: admin.id },
    { fromStageId: null, toStageId: p.s1, timeInPreviousStageMs: null },
  ]);
  t.equal(data.length, 3, 'no entry for changes that keep the stage');
  t.ok(data[0].timeInPreviousStageMs > 0 && data[1].timeInPreviousStageMs > 0, 'time in the stage left is measured');
  t.ok(data[0].changedAt >= data[1].changedAt);

  const first = (await h.request({ method: 'GET', url: `/v1/deals/${d.id}/history`, headers: admin.auth, query: { limit: '2' } })).json();
  t.equal(first.data.length, 2);
  t.ok(first.nextCursor);
  const second = (await h.request({ method: 'GET', url: `/v1/deals/${d.id}/history`, headers: admin.auth, query: { limit: '2', cursor: first.nextCursor } })).json();
  t.same(second.data.map((e: { id: string }) => e.id), [data[2].id]);
  t.equal(second.nextCursor, null);

  const entered = (await get(d.id)).json().stageEnteredAt;
  t.ok(entered >= data[0].changedAt.slice(0, 19), 'stageEnteredAt is the last change');
  t.equal((await h.request({ method: 'GET', url: `/v1/deals/${randomUUID()}/history`, headers: admin.auth })).statusCode, 404);
  t.equal((await h.request({ method: 'GET', url: `/v1/deals/${d.id}/history`, headers: admin.auth, query: { sort: 'x' } })).statusCode, 400);
});

t.test('two users moving cards of the same stages at the same time leave a clean order', async (t) => {
  const p = await newPipeline('Concurrent');
  const cards: { id: string }[] = [];
  for (let i = 0; i < 12; i++) cards.push(await deal(p, i < 8 ? p.s1 : p.s2, `K${String(i).padStart(2, '0')}`));
  // deterministic "random" moves: reorders within a stage and moves both ways between the stages
  const moves = Array.from({ length: 40 }, (_, i) => {
    const card = cards[(i * 7) % cards.length]!;
    const body = i % 3 === 0 ? { stageId: i % 2 ? p.s1 : p.s2, position: i % 5 } : { position: (i * 3) % 9 };
    return patch(card.id, body, i % 2 ? admin : manager);
  });
  const results = await Promise.all(moves);
  t.same([...new Set(results.map((r) => r.statusCode))], [200], 'every move succeeded');

  const s1 = await board(p.s1);
  const s2 = await board(p.s2);
  t.ok(clean(s1), `stage one numbered 0..n-1: ${JSON.stringify(s1)}`);
  t.ok(clean(s2), `stage two numbered 0..n-1: ${JSON.stringify(s2)}`);
  t.equal(s1.length + s2.length, cards.length, 'no card lost or doubled');
  t.equal(new Set([...s1, ...s2].map(([n]) => n)).size, cards.length);

  // the same card dragged by two users at once: both land, the last one wins, the order stays clean
  const k = cards[0]!;
  const both = await Promise.all([patch(k.id, { position: 0 }, admin), patch(k.id, { stageId: p.s2, position: 1 }, manager)]);
  t.same(both.map((r) => r.statusCode), [200, 200]);
  t.ok(clean(await board(p.s1)) && clean(await board(p.s2)));
});
