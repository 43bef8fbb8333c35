import { boolean, check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, recordColumns, ts } from '../../platform/db/columns.js';

export const STAGE_KINDS = ['open', 'won', 'lost'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

export const pipelines = pgTable(
  'pipelines',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    /** the pipeline a lead conversion uses when it names none; at most one live default */
    isDefault: boolean('is_default').notNull().default(false),
  },
  (t) => [
    uniqueIndex('pipelines_default_live_key').on(t.isDefault).where(sql`${t.isDefault} AND ${t.deletedAt} IS NULL`),
    index('pipelines_created_idx').on(t.createdAt, t.id),
    index('pipelines_name_idx').on(t.name, t.id),
  ],
);

/**
 * Stages are rows of their own so deals can reference them. A removed stage is soft-deleted, never
 * dropped: stage history keeps naming it, and the service refuses the removal while live deals sit in it.
 */
export const pipelineStages = pgTable(
  'pipeline_stages',
  {
    id: idColumn(),
    pipelineId: uuid('pipeline_id').notNull().references(() => pipelines.id),
    name: text('name').notNull(),
    probability: integer('probability').notNull(),
    position: integer('position').notNull(),
    kind: text('kind', { enum: STAGE_KINDS }).notNull().default('open'),
    createdAt: ts('created_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    index('pipeline_stages_pipeline_idx').on(t.pipelineId, t.position),
    check('pipeline_stages_probability_range', sql`${t.probability} BETWEEN 0 AND 100`),
  ],
);

export type PipelineRow = typeof pipelines.$inferSelect;
export type PipelineInsert = typeof pipelines.$inferInsert;
export type StageRow = typeof pipelineStages.$inferSelect;
export type StageInsert = typeof pipelineStages.$inferInsert;
