import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { queryRows, sqlArray } from '../../platform/db/execute.js';
import { validationFailed } from '../../platform/errors/app-error.js';

// Retention of the change feed (EVENT_RETENTION_DAYS): sequenced events older than the setting are
// deleted in batches, except what a consumer still needs:
//   - events after the position of any background consumer of the feed (a feed_cursors row: webhook
//     fan-out today, workflows later), which has not read them yet;
//   - events of a webhook delivery still pending or failed (to be retried): its attempts load the event.
//   - the newest sequenced event, however old: the sequencer numbers on from max(seq), and removing
//     the top would hand out its positions again, behind every reader's cursor.
// The log entries (succeeded or dead deliveries) of a deleted event go with it: they could not be
// shown or redelivered without it. Unsequenced events are never touched.
//
// The highest position ever deleted is kept in feed_cursors under PRUNED_CURSOR, so a feed reader
// whose cursor is older learns that it missed events (400 on `after`) instead of silently skipping them.

const RETENTION_LOCK = 7_201_100_007;
const DAY_MS = 86_400_000;
/** the worker runner goes again at once after a full batch (5000), so a backlog drains quickly */
export const RETENTION_BATCH = 5000;
/** not a consumer: the highest position deleted; excluded from the positions retention waits for */
export const PRUNED_CURSOR = 'retention:pruned';

export interface PruneOptions {
  /** EVENT_RETENTION_DAYS; 0 keeps every event */
  days: number;
  now?: () => Date;
  batch?: number;
}

/** One batch: deletes up to `batch` expired events nobody needs; returns how many. Safe from any process. */
export async function pruneEvents(db: Executor, o: PruneOptions): Promise<number> {
  if (o.days <= 0) return 0;
  const cutoff = new Date((o.now ?? (() => new Date()))().getTime() - o.days * DAY_MS);
  return inTransaction(db, async (tx) => {
    const locked = await queryRows<{ ok: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK}) AS ok`);
    if (!locked.rows[0]?.ok) return 0; // another process is pruning right now
    // oldest first along the seq index: expired events are the lowest positions
    const gone = await queryRows<{ id: string; seq: string | number }>(tx, sql`
      WITH consumers AS (SELECT min(seq) AS seq FROM feed_cursors WHERE name <> ${PRUNED_CURSOR}),
      newest AS (SELECT max(seq) AS seq FROM events),
      doomed AS (
        SELECT e.id FROM events e, consumers c, newest n
        WHERE e.seq IS NOT NULL AND e.occurred_at < ${cutoff.toISOString()}::timestamptz
          AND (c.seq IS NULL OR e.seq <= c.seq)
          AND e.seq < n.seq
          AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'failed'))
        ORDER BY e.seq
        LIMIT ${o.batch ?? RETENTION_BATCH}
      )
      DELETE FROM events e USING doomed WHERE e.id = doomed.id
      RETURNING e.id, e.seq`);
    if (gone.rows.length === 0) return 0;
    // through the (webhook_id, event_id) key: webhooks are few, deliveries many
    await tx.execute(sql`
      DELETE FROM webhook_deliveries d USING webhooks w
      WHERE d.webhook_id = w.id AND d.event_id = ANY(${sqlArray(gone.rows.map((r) => r.id), 'uuid')})`);
    const top = Math.max(...gone.rows.map((r) => Number(r.seq)));
    await tx.execute(sql`
      INSERT INTO feed_cursors (name, seq) VALUES (${PRUNED_CURSOR}, ${top})
      ON CONFLICT (name) DO UPDATE SET seq = GREATEST(feed_cursors.seq, excluded.seq), updated_at = now()`);
    return gone.rows.length;
  });
}

/** The highest feed position deleted by retention so far; 0 when none was. */
export async function prunedThrough(db: Executor): Promise<number> {
  const r = await queryRows<{ seq: string | number }>(db, sql`SELECT seq FROM feed_cursors WHERE name = ${PRUNED_CURSOR}`);
  return Number(r.rows[0]?.seq ?? 0);
}

/**
 * A feed cursor older than what retention kept would skip deleted events without a word: refused
 * instead, naming when the kept feed begins, so the reader knows it must resynchronise.
 */
export async function assertRetained(db: Executor, after: number, retentionDays: number | undefined, path = 'after'): Promise<void> {
  const pruned = await prunedThrough(db);
  if (after >= pruned) return;
  const first = await queryRows<{ at: Date | string }>(db, sql`
    SELECT occurred_at AS at FROM events WHERE seq > ${pruned} ORDER BY seq LIMIT 1`);
  const at = first.rows[0]?.at;
  const since = at === undefined ? 'now' : new Date(at).toISOString();
  const setting = retentionDays ? ` (EVENT_RETENTION_DAYS=${retentionDays})` : '';
  throw validationFailed(
    [{ path, message: `is older than the kept change feed: events before ${since} were removed by the retention setting${setting}; start again without ${path} and resynchronise from the records` }],
    'The cursor points before the retained change feed',
  );
}
