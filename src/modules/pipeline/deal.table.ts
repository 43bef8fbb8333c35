import { bigint, date, index, integer, numeric, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { nullableSortExprs as nullsLast } from '../../platform/db/sort-keys.js';
import { sql } from 'drizzle-orm';
import { customColumn, idColumn, ownershipColumns, recordColumns, ts } from '../../platform/db/columns.js';
import { pipelineStages, pipelines } from './pipeline.table.js';

export const DEAL_STATUSES = ['open', 'won', 'lost'] as const;
export type DealStatus = (typeof DEAL_STATUSES)[number];

// companies and contacts belong to the customer module; their keys are referenced by name here
// (drizzle's .references() would import that module's tables) and the foreign keys are declared in
// the migration that creates these tables.

export const deals = pgTable(
  'deals',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    pipelineId: uuid('pipeline_id').notNull().references(() => pipelines.id),
    stageId: uuid('stage_id').notNull().references(() => pipelineStages.id),
    amount: numeric('amount', { precision: 19, scale: 4 }),
    currency: text('currency'),
    expectedCloseDate: date('expected_close_date', { mode: 'string' }),
    companyId: uuid('company_id'),
    /** follows the stage's kind; the service writes both together */
    status: text('status', { enum: DEAL_STATUSES }).notNull().default('open'),
    lostReason: text('lost_reason'),
    closedAt: ts('closed_at'),
    /** order within its stage (kanban); 0-based, renumbered under the stage's lock */
    position: integer('position').notNull().default(0),
    /** when the deal entered its current stage: the start of "time in stage" */
    stageEnteredAt: ts('stage_entered_at').notNull().defaultNow(),
    /** the lead this deal was converted from, if any */
    leadId: uuid('lead_id'),
    ...ownershipColumns(),
    custom: customColumn(),
    searchText: text('search_text').notNull().default(''),
  },
  (t) => [
    index('deals_created_idx').on(t.createdAt, t.id),
    index('deals_updated_idx').on(t.updatedAt, t.id),
    index('deals_name_idx').on(t.name, t.id),
    index('deals_stage_position_idx').on(t.stageId, t.position),
    index('deals_pipeline_idx').on(t.pipelineId),
    index('deals_company_idx').on(t.companyId),
    index('deals_owner_idx').on(t.ownerId),
    index('deals_team_idx').on(t.teamId),
    // date ranges of the sales analytics (forecast, won/lost by period)
    index('deals_close_date_idx').on(t.expectedCloseDate, t.id),
    index('deals_closed_at_idx').on(t.closedAt),
    // Covering indexes of the sales figures (key columns past the first only make them index-only:
    // drizzle-kit has no INCLUDE). closed-deal figures (win rate, cycle length, deal size, velocity, team performance) read only
    // this index: every column they use is in it, so a range of closedAt is an index-only scan
    index('deals_closed_figures_idx').on(t.closedAt, t.status, t.createdAt, t.amount, t.currency, t.ownerId, t.teamId, t.pipelineId)
      .where(sql`deleted_at IS NULL AND closed_at IS NOT NULL`),
    // the open-deal snapshots: velocity's per currency, stage duration's per stage
    index('deals_open_figures_idx').on(t.currency, t.stageId, t.ownerId, t.teamId).where(sql`deleted_at IS NULL AND status = 'open'`),
    // the few deleted deals, for figures that keep every other deal (an anti-join instead of a join)
    index('deals_deleted_idx').on(t.id).where(sql`deleted_at IS NOT NULL`),
    // the funnel's deals created in the range, index-only
    index('deals_created_figures_idx').on(t.createdAt, t.id, t.amount, t.currency, t.ownerId, t.teamId).where(sql`deleted_at IS NULL`),
    // forecast accuracy's candidates: deals with money by expected close date, index-only
    index('deals_forecast_idx').on(t.expectedCloseDate, t.id, t.createdAt, t.closedAt, t.status, t.amount, t.currency, t.ownerId, t.teamId)
      .where(sql`deleted_at IS NULL AND amount IS NOT NULL AND currency IS NOT NULL`),
    // keyset sorts of API.md §2; nullable keys in the (IS NULL, coalesce) form of platform/db/sort-keys.ts
    index('deals_status_sort_idx').on(t.status, t.id),
    index('deals_position_sort_idx').on(t.position, t.id),
    index('deals_amount_sort_idx').on(...nullsLast(t.amount, 'number'), t.id),
    index('deals_currency_sort_idx').on(...nullsLast(t.currency, 'text'), t.id),
    index('deals_close_date_sort_idx').on(...nullsLast(t.expectedCloseDate, 'time'), t.id),
    index('deals_closed_at_sort_idx').on(...nullsLast(t.closedAt, 'time'), t.id),
    index('deals_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    index('deals_custom_idx').using('gin', sql`${t.custom} jsonb_path_ops`),
  ],
);

/** A deal's contacts (API.md `contactIds[]`), in the order given. */
export const dealContacts = pgTable(
  'deal_contacts',
  {
    dealId: uuid('deal_id').notNull().references(() => deals.id),
    contactId: uuid('contact_id').notNull(),
    position: integer('position').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.dealId, t.contactId] }), index('deal_contacts_contact_idx').on(t.contactId)],
);

/** Every stage change of a deal, with the time it spent in the stage it left. */
export const dealStageHistory = pgTable(
  'deal_stage_history',
  {
    id: idColumn(),
    dealId: uuid('deal_id').notNull().references(() => deals.id),
    /** null for the entry written when the deal is created */
    fromStageId: uuid('from_stage_id'),
    toStageId: uuid('to_stage_id').notNull(),
    changedAt: ts('changed_at').notNull().defaultNow(),
    /** the user or API key that moved it */
    changedBy: uuid('changed_by'),
    /** milliseconds spent in fromStage; null on the creation entry */
    msInPreviousStage: bigint('ms_in_previous_stage', { mode: 'number' }),
    /**
     * changedAt of the deal's entry before / after this one in (changedAt, id) order; null on the first /
     * the latest. Kept by the trigger deal_stage_history_links (migration 0019) in the statement that
     * inserts, redates or deletes entries, so a stay's length and the stage at an instant are read from
     * one row instead of a window over the deal's whole history.
     */
    previousChangedAt: ts('previous_changed_at'),
    nextChangedAt: ts('next_changed_at'),
  },
  (t) => [
    index('deal_stage_history_deal_idx').on(t.dealId, t.changedAt, t.id),
    // stage duration: the stays that ended in a range (entries that left a stage), index-only
    index('deal_stage_history_left_idx').on(t.changedAt, t.dealId, t.fromStageId, t.previousChangedAt)
      .where(sql`from_stage_id IS NOT NULL`),
  ],
);

/**
 * Per deal that has stage history: the path of its history and the deal's columns the history figures read
 * (docs/metrics.md "Funnel", "Forecast accuracy"), so those figures scan these rows instead of joining ~1 M
 * history entries to the deals. Kept by the database in the writing statement (migration 0023: a statement
 * trigger on deal_stage_history, a row trigger on deals). Stage ids, not positions or kinds: a pipeline's
 * stages can be reordered or change kind afterwards, so those are joined at read time.
 */
export const dealStageSummaries = pgTable(
  'deal_stage_summaries',
  {
    dealId: uuid('deal_id').primaryKey(),
    /** distinct to_stage_id of the deal's history entries, sorted: the funnel's "stages reached" */
    reachedStageIds: uuid('reached_stage_ids').array().notNull(),
    /** changed_at and to_stage_id of every entry in (changed_at, id) order: the stage at an instant t is
     * enteredStageIds[width_bucket(t - 1 µs, enteredAt)] (the last entry before t), none when 0 */
    enteredAt: ts('entered_at').array().notNull(),
    enteredStageIds: uuid('entered_stage_ids').array().notNull(),
    createdAt: ts('created_at').notNull(),
    amount: numeric('amount', { precision: 19, scale: 4 }),
    currency: text('currency'),
    expectedCloseDate: date('expected_close_date', { mode: 'string' }),
    status: text('status', { enum: DEAL_STATUSES }).notNull(),
    closedAt: ts('closed_at'),
    ownerId: uuid('owner_id'),
    teamId: uuid('team_id'),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    // the funnel's deals created in a range, grouped by (stages reached, currency), index-only
    index('deal_stage_summaries_funnel_idx').on(t.createdAt, t.currency, t.amount, t.ownerId, t.teamId, t.reachedStageIds)
      .where(sql`deleted_at IS NULL`),
    // forecast accuracy's deals with money by expected close date, with their path, index-only
    index('deal_stage_summaries_forecast_idx')
      .on(t.expectedCloseDate, t.createdAt, t.closedAt, t.status, t.amount, t.currency, t.ownerId, t.teamId, t.enteredAt, t.enteredStageIds)
      .where(sql`deleted_at IS NULL AND amount IS NOT NULL AND currency IS NOT NULL`),
  ],
);

export type DealRow = typeof deals.$inferSelect;
export type DealInsert = typeof deals.$inferInsert;
export type DealStageHistoryRow = typeof dealStageHistory.$inferSelect;
