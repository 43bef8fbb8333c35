import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { inTransaction } from '../db/transaction.js';
import { queryRows } from '../db/execute.js';

// Why a sequencer and not a sequence default: a sequence hands out numbers in *start* order, so a
// reader polling `seq > cursor` would skip an event whose transaction commits after a later number
// became visible. Numbering committed rows afterwards, one sequencer at a time (advisory lock),
// makes `seq` follow commit order: a row is numbered only once it is visible, and every number
// handed out later is larger. Readers therefore never miss an event.
const SEQUENCER_LOCK = 7_201_100_002;
const BATCH = 5000;

/** Numbers committed, unnumbered events; returns how many. Safe to call from any process at any time. */
export async function sequenceEvents(db: Executor): Promise<number> {
  return inTransaction(db, async (tx) => {
    const locked = await queryRows<{ ok: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(${SEQUENCER_LOCK}) AS ok`);
    if (!locked.rows[0]?.ok) return 0; // another process is numbering right now
    const res = await queryRows(tx, sql`
      WITH base AS (SELECT coalesce(max(seq), 0) AS top FROM events),
      batch AS (
        SELECT id, row_number() OVER (ORDER BY occurred_at, id) AS n
        FROM events WHERE seq IS NULL ORDER BY occurred_at, id LIMIT ${BATCH}
      )
      UPDATE events e SET seq = base.top + batch.n
      FROM batch, base WHERE e.id = batch.id`);
    return res.affected;
  });
}

export interface OutboxLag {
  pending: number;
  oldestPendingSeconds: number;
}

export async function outboxLag(db: Executor): Promise<OutboxLag> {
  const r = await queryRows<{ pending: number; age: number | null }>(db, sql`
    SELECT count(*)::int AS pending,
           extract(epoch FROM clock_timestamp() - min(occurred_at))::float8 AS age
    FROM events WHERE seq IS NULL`);
  return { pending: Number(r.rows[0]?.pending ?? 0), oldestPendingSeconds: Number(r.rows[0]?.age ?? 0) };
}

/**
 * Runs `step` (the event sequencer by default; the audit sealer uses it too) every `intervalMs` until
 * stopped; errors (e.g. a database outage) are retried next tick.
 */
export function startSequencer(
  db: Executor,
  intervalMs: number,
  onError: (e: unknown) => void,
  step: (db: Executor) => Promise<number> = sequenceEvents,
): () => Promise<void> {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = async () => {
    if (stopped) return;
    running = step(db).then(
      async (n) => {
        // a full batch means more is waiting: go again at once
        if (n >= BATCH && !stopped) await tick();
      },
      onError,
    );
    await running;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
