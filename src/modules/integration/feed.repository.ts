import { type SQL, and, asc, eq, gt, isNotNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows, sqlArray } from '../../platform/db/execute.js';
import { events } from '../../platform/events/event.table.js';
import type { EventRow } from '../../platform/events/feed.js';
import { sequenceEvents } from '../../platform/events/sequencer.js';
import type { TypeFilter } from './feed.schema.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export interface FeedFilter {
  types?: TypeFilter | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
}

export function typeCondition(f: TypeFilter | undefined): SQL | undefined {
  if (!f || f.all) return undefined;
  const parts: SQL[] = [];
  if (f.exact.length) parts.push(sql`${events.type} = ANY(${sqlArray(f.exact, 'text')})`);
  if (f.entities.length) parts.push(sql`split_part(${events.type}, '.', 1) = ANY(${sqlArray(f.entities, 'text')})`);
  return or(...parts);
}

/** The highest feed position numbered so far (0 on an empty feed). */
export async function topSeq(db: Executor): Promise<number> {
  const r = await queryRows<{ top: string | number | null }>(db, sql`SELECT max(seq) AS top FROM events`);
  return Number(r.rows[0]?.top ?? 0);
}

/**
 * A page of the feed after `after`, and the top position it is safe to resume from when the page is
 * not full. The top is read first: numbers become visible in order (one sequencer at a time, each
 * batch atomically), so every event up to that top is visible to the page query that follows, and a
 * client resuming from it skips only what this page already showed or filtered out.
 */
export async function readFeed(db: Executor, after: number, limit: number, f: FeedFilter): Promise<{ rows: EventRow[]; top: number }> {
  const where = and(
    typeCondition(f.types),
    f.entityType ? eq(events.entityType, f.entityType) : undefined,
    f.entityId ? eq(events.entityId, f.entityId) : undefined,
  );
  // number what has committed first, so a reader sees its own writes at once, not at the next tick
  await sequenceEvents(db);
  const top = await topSeq(db);
  const rows = await db
    .select()
    .from(events)
    .where(and(isNotNull(events.seq), gt(events.seq, after), where))
    .orderBy(asc(events.seq))
    .limit(limit);
  return { rows, top };
}
