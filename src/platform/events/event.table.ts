import { bigint, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, ts } from '../db/columns.js';

/**
 * The transactional outbox. Writers insert with `seq` NULL inside their own transaction; the
 * sequencer numbers committed rows afterwards, in the order they became visible, so `seq` is a
 * commit-ordered cursor that never skips an event (see events/sequencer.ts).
 */
export const events = pgTable(
  'events',
  {
    id: idColumn(),
    seq: bigint('seq', { mode: 'number' }),
    type: text('type').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    requestId: text('request_id'),
    data: jsonb('data').$type<{ before: unknown; after: unknown }>().notNull(),
    // clock_timestamp(), not now(): ordering inside one sequencer batch follows when each event was
    // written, which respects cause and effect (an update is written after the create committed).
    occurredAt: ts('occurred_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [
    uniqueIndex('events_seq_key').on(t.seq),
    index('events_unsequenced_idx').on(t.occurredAt, t.id).where(sql`${t.seq} IS NULL`),
    index('events_entity_idx').on(t.entityType, t.entityId, t.seq),
  ],
);
