import { and, asc, count, eq, gt, gte, inArray, isNull, lte, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { deals } from './deal.table.js';
import { type StageRow, pipelineStages } from './pipeline.table.js';

// Kanban order within a stage: the live deals of a stage hold positions 0..n-1, no duplicates, no
// holes. Every change of that order runs while its transaction holds the stage rows' locks, so two
// moves into or out of one stage take turns and each sees the order the previous one left.
//
// Lock order, which keeps concurrent moves free of deadlocks: stage rows first, in id order, and only
// then deal rows. A move shifts its neighbours' rows; a transaction that held one of those rows and
// then waited for the stage would deadlock with it.
//
// Neighbours' positions change without a version bump, an audit row or an event: they did not change,
// their place did because another card moved. The moved deal itself is audited and emitted as usual.

/** Locks the stage rows (`SELECT … FOR UPDATE`, ordered by id); answers them, deleted ones included. */
export async function lockStages(tx: Executor, ids: readonly string[]): Promise<Map<string, StageRow>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await tx.select().from(pipelineStages).where(inArray(pipelineStages.id, unique)).orderBy(asc(pipelineStages.id)).for('update');
  return new Map(rows.map((r) => [r.id, r]));
}

/** Live deals in the stage, not counting `except` (the deal being placed). */
async function sizeOf(tx: Executor, stageId: string, except?: string): Promise<number> {
  const rows = await tx
    .select({ n: count() })
    .from(deals)
    .where(and(eq(deals.stageId, stageId), isNull(deals.deletedAt), except ? ne(deals.id, except) : undefined));
  return Number(rows[0]?.n ?? 0);
}

/** Moves the live deals at positions [from, to] (to open-ended when undefined) of a stage by `delta`. */
async function shift(tx: Executor, stageId: string, delta: 1 | -1, from: number, to: number | undefined, except?: string): Promise<void> {
  await tx
    .update(deals)
    .set({ position: sql`${deals.position} + ${delta}` })
    .where(and(
      eq(deals.stageId, stageId), isNull(deals.deletedAt), gte(deals.position, from),
      to === undefined ? undefined : lte(deals.position, to), except ? ne(deals.id, except) : undefined,
    ));
}

const clamp = (p: number, max: number) => Math.max(0, Math.min(p, max));

/**
 * Opens a place for a deal entering the stage (new, restored, or moved in from another stage): at
 * `requested` clamped to [0, size], the deals from there on moving down one; at the end without one.
 * The stage must be locked. Answers the position the deal takes.
 */
export async function openPlace(tx: Executor, stageId: string, requested: number | undefined, dealId?: string): Promise<number> {
  const size = await sizeOf(tx, stageId, dealId);
  if (requested === undefined || requested >= size) return size;
  const at = clamp(requested, size);
  await shift(tx, stageId, 1, at, undefined, dealId);
  return at;
}

/** Closes the place a deal leaves (moved out, deleted): the deals after it move up one. Stage locked. */
export async function closePlace(tx: Executor, stageId: string, position: number, dealId: string): Promise<void> {
  await tx
    .update(deals)
    .set({ position: sql`${deals.position} - 1` })
    .where(and(eq(deals.stageId, stageId), isNull(deals.deletedAt), gt(deals.position, position), ne(deals.id, dealId)));
}

/** Reorders within one stage: the deal goes from `from` to `requested` clamped to [0, size - 1]. Stage locked. */
export async function reorder(tx: Executor, stageId: string, dealId: string, from: number, requested: number): Promise<number> {
  const to = clamp(requested, await sizeOf(tx, stageId, dealId));
  if (to < from) await shift(tx, stageId, 1, to, from - 1, dealId);
  else if (to > from) await shift(tx, stageId, -1, from + 1, to, dealId);
  return to;
}
