import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { queryRows } from '../../platform/db/execute.js';
import type { ModuleWorker } from '../../platform/module.js';
import { AppError } from '../../platform/errors/app-error.js';
import type { ContactRow } from './contact.table.js';
import { contactKeysChanged } from './duplicate.repository.js';
import { replaceContactPairs } from './duplicate-batch.repository.js';

// Contact duplicate candidates are refreshed after the write, not in it (docs/decisions.md). A write
// only queues the contact's id in its own transaction (nothing acknowledged is lost: the id commits
// with the contact) and drops the pairs the contact had, which are no longer known to be right. The
// lookups then run set-based, a hundred contacts a transaction, in the `duplicate candidates`
// worker of any process, and before any read of the pairs: a reader first refreshes every contact
// queued before it started (waiting for a pass already under way), so no reader sees a list older
// than the writes committed before its request.
//
// One pass at a time across processes (an advisory lock, as the event sequencer): two passes over
// the same or neighbouring contacts would each replace pairs from their own snapshot, and the later
// commit could keep a pair the earlier one had already found stale. The passes are set-based, so one
// at a time still keeps a core busy.

const REFRESH_LOCK = 7_201_100_011;
/**
 * Queue rows a pass takes: one lookup statement. At 1 M contacts a lookup costs ~20 ms of database CPU
 * (the trigram name arm), so a pass of 500 ran 30 s and more on a loaded machine: longer than a
 * graceful shutdown's 10 s and than a reader should wait behind it. A hundred keep a pass to seconds.
 */
const PASS = 100;

/**
 * Queues the contacts whose identifying values changed for a candidate refresh and drops their stored
 * pairs now, so a deleted or merged contact has none from its commit on. A new contact (`before` null)
 * has no pairs yet, which saves that DELETE on inserts.
 */
export async function queueContactRefresh(tx: Executor, written: { row: ContactRow; before?: ContactRow | null }[]): Promise<void> {
  const changed = written.filter((w) => contactKeysChanged(w.before, w.row));
  if (!changed.length) return;
  const known = changed.filter((w) => w.before !== null).map((w) => w.row.id);
  if (known.length) {
    await tx.execute(sql`DELETE FROM duplicate_candidates WHERE entity = 'contact'
      AND (a_id = ANY(${uuids(known)}) OR b_id = ANY(${uuids(known)}))`);
  }
  const live = changed.filter((w) => !w.row.deletedAt && !w.row.mergedIntoId).map((w) => w.row.id);
  if (live.length) await tx.execute(sql`INSERT INTO contact_duplicate_queue (contact_id) SELECT unnest(${uuids(live)})`);
}

/** One contact's write (contact.service, merge): the same as a batch of one. */
export const queueContactRefreshOf = (tx: Executor, row: ContactRow, before?: ContactRow | null) =>
  queueContactRefresh(tx, [{ row, before }]);

const uuids = (ids: readonly string[]) => sql`${`{${ids.join(',')}}`}::uuid[]`;

/**
 * One pass: the oldest queued contacts (up to `upTo`, when given) looked up again and their queue rows
 * removed, in one transaction. `wait`: wait for a pass under way instead of leaving the work to it.
 * Answers how many queue rows it took.
 */
export async function refreshQueuedContacts(db: Executor, o: { wait?: boolean; upTo?: number } = {}): Promise<number> {
  return inTransaction(db, async (tx) => {
    const lock = o.wait ? sql`SELECT pg_advisory_xact_lock(${REFRESH_LOCK}) IS NOT NULL AS ok` : sql`SELECT pg_try_advisory_xact_lock(${REFRESH_LOCK}) AS ok`;
    if (!(await queryRows<{ ok: boolean }>(tx, lock)).rows[0]?.ok) return 0; // another process is refreshing right now
    const taken = await queryRows<{ seq: string; contact_id: string }>(tx, sql`
      DELETE FROM contact_duplicate_queue WHERE seq IN (
        SELECT seq FROM contact_duplicate_queue ${o.upTo !== undefined ? sql`WHERE seq <= ${o.upTo}` : sql``} ORDER BY seq LIMIT ${PASS})
      RETURNING seq, contact_id`);
    await replaceContactPairs(tx, [...new Set(taken.rows.map((r) => r.contact_id))].sort());
    return taken.rows.length;
  });
}

/**
 * How long a reader helps with the backlog before it gives up. After a large import the queue can
 * hold hours of lookups (~20 ms each at 1 M contacts); a read must not hang behind them, and must not
 * show a list that misses committed writes either, so past this it answers 503 with Retry-After.
 */
const READER_CATCH_UP_MS = 5000;

/**
 * Before the pairs are read: every contact queued until now refreshed, including a pass another
 * process has under way. Costs one index probe when the queue is empty, as it is between writes.
 * Throws `service_unavailable` when that work outlasts READER_CATCH_UP_MS.
 */
export async function refreshContactsQueuedBefore(db: Executor, budgetMs = READER_CATCH_UP_MS): Promise<void> {
  const top = (await queryRows<{ top: string | null }>(db, sql`SELECT max(seq) AS top FROM contact_duplicate_queue`)).rows[0]?.top;
  if (top === null || top === undefined) return;
  const until = Date.now() + budgetMs;
  while ((await refreshQueuedContacts(db, { wait: true, upTo: Number(top) })) > 0) {
    if (Date.now() < until) continue;
    const left = (await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM contact_duplicate_queue WHERE seq <= ${Number(top)}`)).rows[0]?.n ?? 0;
    if (left === 0) return;
    throw new AppError('service_unavailable', `Duplicate candidates of ${left} recently written contacts are still being looked up; retry later`, {
      headers: { 'retry-after': String(Math.min(300, Math.max(5, Math.ceil(left / 50)))) },
    });
  }
}

/** how long a worker run keeps taking full passes before it yields to the next tick */
const RUN_MS = 2000;

/**
 * The background refresh of every process: passes until the queue is empty (or RUN_MS is spent), the
 * lock released between passes so a waiting reader gets its turn.
 */
export const contactDuplicateWorker: ModuleWorker = {
  name: 'duplicate candidates',
  intervalMs: 1000,
  async run(db) {
    const until = Date.now() + RUN_MS;
    let total = 0;
    for (let n = PASS; n === PASS && Date.now() < until;) total += n = await refreshQueuedContacts(db);
    return total;
  },
};
