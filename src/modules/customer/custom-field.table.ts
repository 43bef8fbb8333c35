import { boolean, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { recordColumns } from '../../platform/db/columns.js';

/** Custom-field definitions (API.md §5): which keys `custom` may hold on each entity, and their types. */
export const customFields = pgTable(
  'custom_fields',
  {
    ...recordColumns(),
    entity: text('entity').notNull(),
    key: text('key').notNull(),
    label: text('label').notNull(),
    type: text('type').notNull(),
    options: text('options').array().notNull().default(sql`'{}'::text[]`),
    required: boolean('required').notNull().default(false),
    unique: boolean('unique').notNull().default(false),
  },
  (t) => [
    // One live definition per key and entity; a deleted one frees its key for a new definition.
    uniqueIndex('custom_fields_entity_key_live_key').on(t.entity, t.key).where(sql`${t.deletedAt} IS NULL`),
    index('custom_fields_created_idx').on(t.createdAt, t.id),
  ],
);

export type CustomFieldRow = typeof customFields.$inferSelect;
export type CustomFieldInsert = typeof customFields.$inferInsert;
