import { and, asc, eq, gt, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { events } from '../../platform/events/event.table.js';
import type { EventRow } from '../../platform/events/feed.js';
import {
  type WebhookDeliveryRow, type WebhookRow, webhookDeliveries as d, webhooks as w,
} from './webhook.table.js';

// Queries of the webhook fan-out and delivery steps. Times come from the caller (an injectable clock),
// never from the database's now(), so tests can move through days of backoff without waiting.

type DeliveryInsert = typeof d.$inferInsert;

export { advanceCursor, lockCursor } from '../../platform/events/consumer.js';

export type EventHead = Pick<EventRow, 'id' | 'seq' | 'type' | 'occurredAt'>;

/** What fan-out needs of the events after `seq`: not their data, which may be large. */
export async function sequencedAfter(db: Executor, seq: number, limit: number): Promise<EventHead[]> {
  return db
    .select({ id: events.id, seq: events.seq, type: events.type, occurredAt: events.occurredAt })
    .from(events)
    .where(and(isNotNull(events.seq), gt(events.seq, seq)))
    .orderBy(asc(events.seq))
    .limit(limit);
}

export async function activeWebhooks(db: Executor): Promise<WebhookRow[]> {
  return db.select().from(w).where(and(eq(w.enabled, true), isNull(w.deletedAt)));
}

export async function insertDeliveries(tx: Executor, rows: DeliveryInsert[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await tx.insert(d).values(rows.slice(i, i + 1000)).onConflictDoNothing();
  }
}

/**
 * Claims up to `limit` due deliveries of enabled webhooks by pushing their next attempt to
 * `leaseUntil`: a process that dies mid-attempt leaves them due again once the lease runs out.
 * SKIP LOCKED lets several processes claim side by side without taking the same row. A delivery
 * waits while an earlier event about the same record is still undelivered to the same webhook, so a
 * receiver never gets an update before its create.
 */
export async function claimDue(db: Executor, now: Date, leaseUntil: Date, limit: number): Promise<string[]> {
  const r = await queryRows<{ id: string }>(db, sql`
    UPDATE webhook_deliveries AS d SET next_attempt_at = ${leaseUntil.toISOString()}::timestamptz
    FROM (
      SELECT d0.id FROM webhook_deliveries d0
      JOIN webhooks w ON w.id = d0.webhook_id
      JOIN events e ON e.id = d0.event_id
      WHERE d0.status IN ('pending', 'failed') AND d0.next_attempt_at <= ${now.toISOString()}::timestamptz
        AND w.enabled AND w.deleted_at IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM events e2
          JOIN webhook_deliveries d2 ON d2.event_id = e2.id AND d2.webhook_id = d0.webhook_id
          WHERE e2.entity_type = e.entity_type AND e2.entity_id = e.entity_id AND e2.seq < e.seq
            AND d2.status IN ('pending', 'failed'))
      ORDER BY d0.next_attempt_at, d0.event_seq
      LIMIT ${limit}
      FOR UPDATE OF d0 SKIP LOCKED
    ) due
    WHERE d.id = due.id
    RETURNING d.id`);
  return r.rows.map((x) => x.id);
}

export interface AttemptRow {
  delivery: WebhookDeliveryRow;
  webhook: WebhookRow;
  event: EventRow;
}

export async function loadAttempts(db: Executor, ids: readonly string[]): Promise<AttemptRow[]> {
  if (ids.length === 0) return [];
  return db
    .select({ delivery: d, webhook: w, event: events })
    .from(d)
    .innerJoin(w, eq(w.id, d.webhookId))
    .innerJoin(events, eq(events.id, d.eventId))
    .where(inArray(d.id, [...ids]))
    .orderBy(asc(d.eventSeq));
}

/** A manual redelivery starts the delivery over: a fresh retry schedule and 3-day window from `now`. */
export async function restartDelivery(tx: Executor, id: string, now: Date, leaseUntil: Date): Promise<void> {
  await tx
    .update(d)
    .set({ status: 'pending', attempts: 0, createdAt: now, nextAttemptAt: leaseUntil, deliveredAt: null })
    .where(eq(d.id, id));
}

export async function recordAttempt(
  tx: Executor,
  id: string,
  v: Pick<WebhookDeliveryRow, 'status' | 'attempts' | 'nextAttemptAt' | 'lastAttemptAt' | 'lastStatusCode' | 'lastError' | 'deliveredAt'>,
): Promise<void> {
  await tx.update(d).set(v).where(eq(d.id, id));
}

/** Failing-since is the webhook's health, not a change of its settings: no version bump, no event. */
export async function setFailingSince(tx: Executor, webhookId: string, at: Date | null): Promise<WebhookRow | undefined> {
  const rows = await tx
    .update(w)
    .set({ failingSince: at === null ? null : sql`coalesce(${w.failingSince}, ${at.toISOString()}::timestamptz)` })
    .where(eq(w.id, webhookId))
    .returning();
  return rows[0];
}
