import { and, asc, gt, isNotNull, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { events } from './event.table.js';
import { sequenceEvents } from './sequencer.js';

export type EventRow = typeof events.$inferSelect;

/**
 * Events after `afterSeq` in commit order. Numbers what has committed first, so a reader sees a
 * change as soon as its transaction commits, not only at the next sequencer tick.
 */
export async function readEventsAfter(db: Executor, afterSeq: number, limit: number, where?: SQL): Promise<EventRow[]> {
  await sequenceEvents(db);
  return db
    .select()
    .from(events)
    .where(and(isNotNull(events.seq), gt(events.seq, afterSeq), where))
    .orderBy(asc(events.seq))
    .limit(limit);
}
