import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ownershipColumns, recordColumns } from '../../platform/db/columns.js';
import type { SegmentRules } from './segment-rules.js';

/** A saved audience: its rules are evaluated live against contacts whenever it is read or used. */
export const segments = pgTable(
  'segments',
  {
    ...recordColumns(),
    ...ownershipColumns(),
    name: text('name').notNull(),
    description: text('description'),
    rules: jsonb('rules').$type<SegmentRules>().notNull(),
  },
  (t) => [index('segments_created_idx').on(t.createdAt, t.id), index('segments_name_idx').on(t.name, t.id)],
);

export type SegmentRow = typeof segments.$inferSelect;
export type SegmentInsert = typeof segments.$inferInsert;
