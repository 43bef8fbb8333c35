import { and, asc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { systemContext } from '../../platform/auth/actor.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { type TicketRow, tickets as t } from './ticket.table.js';
import { toTicketDto } from './ticket.schema.js';

/**
 * The breach scheduler (API.md §5 Service): announces each missed SLA target once, as a
 * `ticket.sla_breached` event, and marks the ticket `slaBreached`.
 *
 * Exactly once, with any number of workers: candidates are claimed with FOR UPDATE SKIP LOCKED, so a
 * second worker passes over rows the first holds; a row it reaches after the first committed is
 * re-checked by PostgreSQL against the new version, whose *_breached_at is set, and dropped. The mark,
 * the audit row and the event commit together, or not at all.
 */

export type SlaTargetKind = 'first_response' | 'resolution';

/** tickets claimed per transaction; a full batch makes the worker loop run again at once */
export const BREACH_BATCH = 100;
export const BREACH_INTERVAL_MS = 30_000;
const MAX_BATCHES_PER_PASS = 100;

const DUE = {
  first_response: {
    due: t.firstResponseDueAt,
    // the partial index tickets_first_response_due_idx; a ticket solved before the due time was never late
    where: (now: Date) => and(
      lte(t.firstResponseDueAt, now), isNull(t.firstRespondedAt), isNull(t.firstResponseBreachedAt),
      isNull(t.slaPausedAt), isNull(t.deletedAt), or(isNull(t.solvedAt), gt(t.solvedAt, t.firstResponseDueAt)),
    ),
    mark: (now: Date) => ({ firstResponseBreachedAt: now }),
    dueOf: (r: TicketRow) => r.firstResponseDueAt,
  },
  resolution: {
    due: t.resolutionDueAt,
    // the partial index tickets_resolution_due_idx
    where: (now: Date) => and(
      lte(t.resolutionDueAt, now), isNull(t.solvedAt), isNull(t.resolutionBreachedAt), isNull(t.slaPausedAt), isNull(t.deletedAt),
    ),
    mark: (now: Date) => ({ resolutionBreachedAt: now }),
    dueOf: (r: TicketRow) => r.resolutionDueAt,
  },
} as const;

const KINDS: SlaTargetKind[] = ['first_response', 'resolution'];

/** Claims up to `limit` overdue tickets of one target that no other worker holds; locked until commit. */
async function claim(tx: Executor, kind: SlaTargetKind, now: Date, limit: number): Promise<TicketRow[]> {
  const d = DUE[kind];
  return tx.select().from(t).where(d.where(now)).orderBy(asc(d.due), asc(t.id)).limit(limit).for('update', { skipLocked: true });
}

/** One breach: the mark (version + 1), its audit row and its event, in the caller's transaction. */
async function announce(tx: Executor, kind: SlaTargetKind, before: TicketRow, now: Date): Promise<void> {
  const rows = await tx
    .update(t)
    .set({ ...DUE[kind].mark(now), slaBreached: true, version: sql`${t.version} + 1`, updatedAt: now })
    .where(eq(t.id, before.id))
    .returning();
  const after = rows[0] as TicketRow;
  const ctx = systemContext('sla-breach');
  const b = toTicketDto(before);
  const a = { ...toTicketDto(after), target: kind, dueAt: DUE[kind].dueOf(before)?.toISOString() ?? null };
  await recordAudit(tx, ctx, { action: 'sla_breached', entityType: 'ticket', entityId: after.id, before: b, after: a });
  await emit(tx, ctx, { type: 'ticket.sla_breached', entityType: 'ticket', entityId: after.id, before: b, after: a });
}

export function createBreachScheduler(o: { batch?: number } = {}) {
  const batch = o.batch ?? BREACH_BATCH;

  /**
   * One pass at `now`, one transaction: every claimed overdue target is announced once. Answers the
   * number of breaches announced (0 when another worker holds or already announced them all).
   */
  async function run(db: Executor, now: Date = new Date()): Promise<number> {
    return inTransaction(db, async (tx) => {
      let n = 0;
      // a ticket late on both targets is announced twice; the second claim reads the first mark (same transaction)
      for (const kind of KINDS) {
        for (const row of await claim(tx, kind, now, batch)) {
          await announce(tx, kind, row, now);
          n++;
        }
      }
      return n;
    });
  }

  /**
   * The worker's pass: batches until one comes back short, so a backlog after downtime clears at once
   * rather than a batch per interval. Bounded, so one pass cannot run for ever.
   */
  async function drain(db: Executor, now: Date = new Date()): Promise<number> {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES_PER_PASS; i++) {
      const n = await run(db, now);
      total += n;
      if (n < batch) break;
    }
    return total;
  }

  return { run, drain };
}

export type BreachScheduler = ReturnType<typeof createBreachScheduler>;
