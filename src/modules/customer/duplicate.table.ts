import { bigint, check, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { ts } from '../../platform/db/columns.js';

/**
 * Duplicate candidates, kept current as contacts and companies are written: each write looks up its
 * own candidates through indexes (email, phone, trigram name), so no all-pairs scan ever runs.
 * A pair is stored once, `a_id < b_id`.
 */
export const duplicateCandidates = pgTable(
  'duplicate_candidates',
  {
    entity: text('entity', { enum: ['contact', 'company'] }).notNull(),
    aId: uuid('a_id').notNull(),
    bId: uuid('b_id').notNull(),
    /** 0–100 */
    score: integer('score').notNull(),
    reasons: text('reasons').array().notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.entity, t.aId, t.bId] }),
    index('duplicate_candidates_score_idx').on(t.entity, t.score, t.aId, t.bId),
    index('duplicate_candidates_b_idx').on(t.entity, t.bId),
    check('duplicate_candidates_ordered', sql`${t.aId} < ${t.bId}`),
  ],
);

/**
 * Contacts whose duplicate candidates are to be looked up again (duplicate-queue.ts). A contact write
 * adds its id here in its own transaction, so the lookup (the costly part of a write: trigram name,
 * email and phone arms) runs after commit, set-based, in the background or before the next read of
 * the pairs. One row per write, never merged with an earlier one: a row being refreshed right now
 * read the contact before this write, so this write needs its own pass. `seq` orders the passes and
 * bounds what a reader waits for.
 */
export const contactDuplicateQueue = pgTable('contact_duplicate_queue', {
  seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  contactId: uuid('contact_id').notNull(),
});
