import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import type { RequestContext } from '../auth/actor.js';
import { events } from './event.table.js';
import { BULK_FROM_ROWS, rowsAsSelect } from '../db/bulk-insert.js';

export interface EmitInput {
  /** `<entity>.created|updated|deleted|restored` or a domain event such as `deal.won` */
  type: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

/**
 * Records an event inside the caller's transaction: it exists if and only if the change commits.
 * The sequencer gives it its place in the feed after commit.
 */
export async function emit(tx: Executor, ctx: RequestContext, e: EmitInput | EmitInput[]): Promise<void> {
  const list = Array.isArray(e) ? e : [e];
  if (list.length === 0) return;
  const rows = list.map((x) => ({
    type: x.type,
    entityType: x.entityType,
    entityId: x.entityId,
    actorType: ctx.actor.type,
    actorId: ctx.actor.id,
    requestId: ctx.requestId,
    data: { before: x.before ?? null, after: x.after ?? null },
  }));
  // a batch's events as one JSON parameter (bulk-insert.ts): the same rows, without a parameter per cell
  const insert = tx.insert(events);
  await (rows.length >= BULK_FROM_ROWS ? insert.select(rowsAsSelect(events, rows)) : insert.values(rows));
}

/**
 * The events of a set-based write, for a statement that writes the change and its events together
 * (a data-modifying CTE): `rows` yields (id, type, entity_type, entity_id, before, after), the two sides
 * as jsonb. Written in id order, so with ids made in the records' order (uuidv7) the events follow the
 * records as emit's do; occurred_at is the column default (clock_timestamp()), evaluated after the sort.
 */
export function eventInsertSql(ctx: RequestContext, rows: SQL): SQL {
  return sql`INSERT INTO events (id, type, entity_type, entity_id, actor_type, actor_id, request_id, data)
    SELECT r.id, r.type, r.entity_type, r.entity_id, ${ctx.actor.type}::text, ${ctx.actor.id}::text, ${ctx.requestId}::text,
      jsonb_build_object('before', r.before, 'after', r.after)
    FROM (${rows}) r ORDER BY r.id`;
}
