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
