import { index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';

/**
 * The ids live records have in other systems, one row per (entity type, system, id). Its primary key
 * is what makes `externalIds` unique per source system (API.md §5) under any concurrency, and the
 * arbiter of upserts by `externalId.<system>`. Rows exist for live records only: deleting a record
 * frees its external ids, restoring claims them again.
 */
export const externalIds = pgTable(
  'external_ids',
  {
    entityType: text('entity_type').notNull(),
    system: text('system').notNull(),
    externalId: text('external_id').notNull(),
    entityId: uuid('entity_id').notNull(),
  },
  (t) => [
    primaryKey({ name: 'external_ids_pkey', columns: [t.entityType, t.system, t.externalId] }),
    index('external_ids_entity_idx').on(t.entityId),
  ],
);
