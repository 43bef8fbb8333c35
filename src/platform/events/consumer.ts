import { and, asc, eq, gt, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { inTransaction } from '../db/transaction.js';
import { feedCursors } from './cursor.table.js';
import { events } from './event.table.js';
import type { EventRow } from './feed.js';
import { sequenceEvents } from './sequencer.js';

// A background consumer of the change feed: a named cursor row, locked while a batch is handled, so
// one process at a time consumes each cursor (the others skip it), and what a batch does commits
// together with the cursor's advance: each event is handled once, or again after a failure, never lost.

/** The consumer's position, locked for this transaction; undefined when another process holds it. */
export async function lockCursor(tx: Executor, name: string): Promise<number | undefined> {
  await tx.insert(feedCursors).values({ name, seq: 0 }).onConflictDoNothing();
  const rows = await tx.select().from(feedCursors).where(eq(feedCursors.name, name)).for('update', { skipLocked: true });
  return rows[0]?.seq;
}

export async function advanceCursor(tx: Executor, name: string, seq: number): Promise<void> {
  await tx.update(feedCursors).set({ seq, updatedAt: sql`now()` }).where(eq(feedCursors.name, name));
}

/**
 * One pass of consumer `name` over up to `batch` sequenced events: `handle` gets those of `types`
 * (all without) in commit order, inside the transaction that advances the cursor. Answers how many events it passed.
 */
export async function consumeFeed(
  db: Executor,
  name: string,
  o: { types?: readonly string[] | undefined; batch?: number },
  handle: (tx: Executor, events: EventRow[]) => Promise<void>,
): Promise<number> {
  await sequenceEvents(db);
  return inTransaction(db, async (tx) => {
    const cursor = await lockCursor(tx, name);
    if (cursor === undefined) return 0;
    const heads = await tx.select({ seq: events.seq }).from(events)
      .where(and(isNotNull(events.seq), gt(events.seq, cursor))).orderBy(asc(events.seq)).limit(o.batch ?? 500);
    const last = heads.at(-1)?.seq;
    if (last === undefined || last === null) return 0;
    const wanted = await tx.select().from(events)
      .where(and(gt(events.seq, cursor), lte(events.seq, last), o.types ? inArray(events.type, [...o.types]) : undefined)).orderBy(asc(events.seq));
    if (wanted.length) await handle(tx, wanted);
    await advanceCursor(tx, name, last);
    return heads.length;
  });
}
