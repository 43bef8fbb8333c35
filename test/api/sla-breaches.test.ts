import t from 'tap';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';
import { connectPostgres } from '../../src/platform/db/client.js';
import { createBreachScheduler } from '../../src/modules/service/sla-breach.js';
import { dueTimes } from '../../src/modules/service/sla.js';
import type { SlaPolicyRow, TicketPriority } from '../../src/modules/service/sla-policy.table.js';
import { type TicketRow, tickets } from '../../src/modules/service/ticket.table.js';

// The breach scheduler (API.md §5 Service) with a fixed clock: overdue, unmet targets become exactly one
// ticket.sla_breached event each (with its audit row), paused and met targets never do, and two workers
// racing on one PostgreSQL database still announce each breach once.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const scheduler = createBreachScheduler();

const post = async (url: string, payload: object) => {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload });
  if (res.statusCode !== 201) throw new Error(`${url}: ${res.body}`);
  return res.json();
};

const requester = await post('/v1/contacts', { firstName: 'Rana', lastName: 'Requester' });
// London office hours; urgent: first response 1 h, resolution 4 h
const policyDto = await post('/v1/sla-policies', {
  name: 'London office', timeZone: 'Europe/London',
  businessHours: [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
  targets: [{ priority: 'urgent', firstResponseMinutes: 60, resolutionMinutes: 240 }],
});
const policy = { ...policyDto, createdAt: new Date(policyDto.createdAt), updatedAt: new Date(policyDto.updatedAt), deletedAt: null } as SlaPolicyRow;

const monday0900 = new Date('2026-11-23T09:00:00Z');
const at = (iso: string) => new Date(iso);

/** A ticket written straight into the table (as the tickets service would), due times from dueTimes(). */
async function ticket(subject: string, o: Partial<typeof tickets.$inferInsert> = {}, priority: TicketPriority = 'urgent'): Promise<TicketRow> {
  const createdAt = o.createdAt ?? monday0900;
  const due = dueTimes(policy, { createdAt, priority, slaPausedMinutes: 0 });
  const rows = await db.insert(tickets).values({
    subject, requesterId: requester.id, priority, status: 'open', slaPolicyId: policy.id, createdAt, updatedAt: createdAt, ...due, ...o,
  }).returning();
  return rows[0] as TicketRow;
}

/** takes a test's tickets out of later passes (the scheduler skips deleted tickets) */
const retire = (ids: string[]) => db.update(tickets).set({ deletedAt: at('2026-11-01T00:00:00Z') }).where(inArray(tickets.id, ids));

const breachEvents = (ids: string[]) =>
  db.select().from(events).where(and(eq(events.type, 'ticket.sla_breached'), inArray(events.entityId, ids))).orderBy(asc(events.occurredAt), asc(events.id));

t.test('overdue unmet targets are announced once each; met, paused, solved and deleted ones are not', async (t) => {
  const late = await ticket('late first response'); // due 10:00, resolution 13:00
  const both = await ticket('late on both');
  const answered = await ticket('answered in time', { firstRespondedAt: at('2026-11-23T09:30:00Z') });
  const paused = await ticket('pending', { status: 'pending', slaPausedAt: at('2026-11-23T09:10:00Z') });
  const solved = await ticket('solved', { status: 'solved', firstRespondedAt: at('2026-11-23T09:20:00Z'), solvedAt: at('2026-11-23T09:40:00Z') });
  const deleted = await ticket('deleted', { deletedAt: at('2026-11-23T09:05:00Z') });
  const noPolicy = await ticket('no policy', { slaPolicyId: null, firstResponseDueAt: null, resolutionDueAt: null });
  const notYet = await ticket('not yet due', { createdAt: at('2026-11-23T12:30:00Z') }); // due 13:30
  const ids = [late, both, answered, paused, solved, deleted, noPolicy, notYet].map((x) => x.id);
  t.equal(late.firstResponseDueAt?.toISOString(), '2026-11-23T10:00:00.000Z');

  t.equal(await scheduler.run(db, at('2026-11-23T09:59:59Z')), 0, 'nothing due yet');
  t.equal(await scheduler.run(db, at('2026-11-23T11:00:00Z')), 2, 'two first responses are late at 11:00');
  // the resolution of `both` comes due at 13:00; `late` gets its answer first
  await db.update(tickets).set({ firstRespondedAt: at('2026-11-23T11:30:00Z') }).where(eq(tickets.id, late.id));
  await db.update(tickets).set({ solvedAt: at('2026-11-23T12:00:00Z'), status: 'solved' }).where(eq(tickets.id, late.id));
  const now = at('2026-11-23T13:00:00Z');
  t.equal(await scheduler.run(db, now), 2, 'resolutions of `both` and `answered`');
  t.equal(await scheduler.run(db, now), 0, 'announced once: a second pass finds nothing');

  const evs = await breachEvents(ids);
  const targetOf = (e: (typeof evs)[number]) => (e.data.after as { target: string }).target;
  t.same(evs.map((e) => `${e.entityId}:${targetOf(e)}`).sort(), [`${late.id}:first_response`, `${both.id}:first_response`, `${both.id}:resolution`, `${answered.id}:resolution`].sort());
  const first = evs.find((e) => e.entityId === both.id && (e.data.after as { target: string }).target === 'first_response')!;
  t.match(first, { entityType: 'ticket', actorType: 'system' });
  t.match(first.data, {
    before: { id: both.id, slaBreached: false, version: 1 },
    after: { id: both.id, slaBreached: true, version: 2, target: 'first_response', dueAt: '2026-11-23T10:00:00.000Z' },
  });
  const second = evs.find((e) => e.entityId === both.id && (e.data.after as { target: string }).target === 'resolution')!;
  t.match(second.data, { before: { slaBreached: true, version: 2 }, after: { version: 3, target: 'resolution', dueAt: '2026-11-23T13:00:00.000Z' } });

  const [row] = await db.select().from(tickets).where(eq(tickets.id, both.id));
  t.match(row, { slaBreached: true, version: 3 });
  t.equal(row?.firstResponseBreachedAt?.toISOString(), '2026-11-23T11:00:00.000Z', 'detected at the pass that saw it');
  t.equal(row?.resolutionBreachedAt?.toISOString(), now.toISOString());
  const [ans] = await db.select().from(tickets).where(eq(tickets.id, answered.id));
  t.match(ans, { firstResponseBreachedAt: null, resolutionBreachedAt: Date, slaBreached: true }, 'answered in time: late only for resolution');
  for (const quiet of [paused, solved, deleted, noPolicy, notYet]) {
    const [r] = await db.select().from(tickets).where(eq(tickets.id, quiet.id));
    t.match(r, { slaBreached: false, version: 1, firstResponseBreachedAt: null, resolutionBreachedAt: null }, `${quiet.subject}: untouched`);
  }
  const audit = await db.select().from(auditLogs).where(and(eq(auditLogs.action, 'sla_breached'), inArray(auditLogs.entityId, ids)));
  t.equal(audit.length, 4, 'one audit row per breach');
  t.ok(audit.every((a) => a.entityType === 'ticket' && a.actorType === 'system'));

  // the paused ticket resumes (its pause pushed the due times back by 2 business hours): late only after them
  const pushed = dueTimes(policy, { createdAt: monday0900, priority: 'urgent', slaPausedMinutes: 120 });
  await db.update(tickets).set({ status: 'open', slaPausedAt: null, slaPausedMinutes: 120, ...pushed }).where(eq(tickets.id, paused.id));
  t.equal(await scheduler.run(db, at('2026-11-23T11:59:00Z')), 0, 'not before its pushed due time (12:00)');
  t.equal(await scheduler.run(db, at('2026-11-23T12:00:00Z')), 1);
  t.same((await breachEvents([paused.id])).map((e) => (e.data.after as { dueAt: string }).dueAt), ['2026-11-23T12:00:00.000Z']);
  await retire(ids);
});

t.test('a responded ticket is never late for first response, only for resolution', async (t) => {
  const x = await ticket('responded', { createdAt: at('2026-11-24T09:00:00Z'), firstRespondedAt: at('2026-11-24T09:01:00Z') });
  t.equal(await scheduler.run(db, at('2026-11-25T09:00:00Z')), 1);
  t.same((await breachEvents([x.id])).map((e) => (e.data.after as { target: string }).target), ['resolution']);
  await retire([x.id]);
});

t.test('a full batch leaves the rest for the next pass; every breach is still announced once', async (t) => {
  const small = createBreachScheduler({ batch: 2 });
  const many = await Promise.all([1, 2, 3, 4, 5].map((i) => ticket(`batch ${i}`, { createdAt: at('2026-11-26T09:00:00Z'), firstRespondedAt: at('2026-11-26T09:05:00Z') })));
  const now = at('2026-11-26T14:00:00Z');
  const passes: number[] = [];
  for (let n = -1; n !== 0;) passes.push((n = await small.run(db, now)));
  t.same(passes, [2, 2, 1, 0]);
  t.equal((await breachEvents(many.map((m) => m.id))).length, 5);
  await retire(many.map((m) => m.id));

  // the worker's pass drains a backlog in one go, batch after batch
  const backlog = await Promise.all([1, 2, 3, 4, 5].map((i) => ticket(`backlog ${i}`, { createdAt: at('2026-11-26T09:00:00Z'), firstRespondedAt: at('2026-11-26T09:05:00Z') })));
  t.equal(await small.drain(db, now), 5);
  t.equal(await small.drain(db, now), 0);
  await retire(backlog.map((m) => m.id));
});

if (h.db.url) t.test('two workers on separate connections announce each breach exactly once (PostgreSQL)', async (t) => {
  const url = h.db.url as string;
  const a = connectPostgres({ url, poolMax: 2, statementTimeoutMs: 30_000, connectionTimeoutMs: 10_000 });
  const b = connectPostgres({ url, poolMax: 2, statementTimeoutMs: 30_000, connectionTimeoutMs: 10_000 });
  t.teardown(async () => { await a.close(); await b.close(); });
  const racing = await Promise.all(Array.from({ length: 40 }, (_, i) => ticket(`race ${i}`, { createdAt: at('2026-11-27T09:00:00Z') })));
  const ids = racing.map((r) => r.id);
  const now = at('2026-11-30T17:00:00Z'); // both targets late for all 40: 80 breaches
  const worker = createBreachScheduler({ batch: 5 });
  const drain = async (x: typeof a) => {
    let total = 0;
    for (let n = -1; n !== 0;) total += n = await worker.run(x.db, now);
    return total;
  };
  const counts = await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
  t.equal(counts.reduce((x, y) => x + y, 0), 80, 'the workers together announced every breach, none twice');
  const evs = await breachEvents(ids);
  t.equal(evs.length, 80);
  const keys = new Set(evs.map((e) => `${e.entityId}:${(e.data.after as { target: string }).target}`));
  t.equal(keys.size, 80, 'no breach announced twice');
  const rows = await db.select().from(tickets).where(inArray(tickets.id, ids));
  t.ok(rows.every((r) => r.version === 3 && r.slaBreached), 'each ticket marked once per target');

  // a worker holding a claim: the other passes over it without waiting, and it stays the holder's
  const held = await ticket('held', { createdAt: at('2026-11-27T09:00:00Z') });
  const holder = await a.db.transaction(async (tx) => {
    await tx.select().from(tickets).where(eq(tickets.id, held.id)).for('update');
    return worker.run(b.db, now);
  });
  t.equal(holder, 0, 'a locked ticket is skipped, not waited for');
  t.equal(await worker.run(b.db, now), 2, 'announced once the lock is gone');
});

t.test('end to end: a ticket opened through POST /v1/tickets is announced when its due times pass', async (t) => {
  const res = await h.request({ method: 'POST', url: '/v1/tickets', headers: admin.auth, payload: { subject: 'Printer on fire', requesterId: requester.id, priority: 'urgent', slaPolicyId: policy.id } });
  t.equal(res.statusCode, 201, res.body);
  const opened = res.json();
  t.ok(opened.firstResponseDueAt && opened.resolutionDueAt, 'due times from the policy');
  const later = new Date(Date.parse(opened.resolutionDueAt) + 60_000);
  t.equal(await scheduler.run(db, later), 2);
  const got = (await h.request({ method: 'GET', url: `/v1/tickets/${opened.id}`, headers: admin.auth })).json();
  t.match(got, { slaBreached: true, version: opened.version + 2 });
  t.same((await breachEvents([opened.id])).map((e) => (e.data.after as { target: string }).target).sort(), ['first_response', 'resolution']);
  await retire([opened.id]);
});
