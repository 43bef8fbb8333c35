import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { type DealStageHistoryRow, dealStageHistory } from './deal.table.js';

// Stage history of a deal: one entry at creation (fromStageId null), one per stage change carrying
// the milliseconds the deal spent in the stage it left (from its stage_entered_at).

/** Newest first; the cursor is (changedAt, id), so pages stay exact under new entries. */
export const historyCollection: CollectionSpec = {
  id: { expr: dealStageHistory.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-changedAt',
  fields: {
    changedAt: { expr: dealStageHistory.changedAt, type: 'datetime', nullable: false, sortable: true },
  },
};

export async function recordStageChange(
  tx: Executor,
  e: { dealId: string; fromStageId: string | null; toStageId: string; changedBy: string | null; enteredPreviousAt: Date | null },
): Promise<void> {
  // measured by the database clock, which also wrote stage_entered_at; never negative should clocks disagree
  const ms = e.enteredPreviousAt
    ? sql`GREATEST(0, round(extract(epoch from (now() - ${e.enteredPreviousAt.toISOString()}::timestamptz)) * 1000))::bigint`
    : null;
  await tx.insert(dealStageHistory).values({
    dealId: e.dealId,
    fromStageId: e.fromStageId,
    toStageId: e.toStageId,
    changedBy: e.changedBy,
    changedAt: sql`now()`,
    msInPreviousStage: ms,
  });
}

export async function listStageChanges(db: Executor, dealId: string, list: CompiledList): Promise<DealStageHistoryRow[]> {
  return db
    .select()
    .from(dealStageHistory)
    .where(and(eq(dealStageHistory.dealId, dealId), list.where))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}
