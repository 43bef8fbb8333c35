import { check, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
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
