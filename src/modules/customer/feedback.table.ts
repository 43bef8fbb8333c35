import { check, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { ownershipColumns, recordColumns } from '../../platform/db/columns.js';
import { contacts } from './contact.table.js';

export const FEEDBACK_TYPES = ['nps', 'csat', 'ces'] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** NPS (0–10), CSAT (1–5) and CES (1–7) answers of a contact, optionally about a ticket. */
export const feedback = pgTable(
  'feedback',
  {
    ...recordColumns(),
    type: text('type', { enum: FEEDBACK_TYPES }).notNull(),
    score: integer('score').notNull(),
    comment: text('comment'),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    /** the tickets table belongs to the service module: its foreign key comes with that module */
    ticketId: uuid('ticket_id'),
    ...ownershipColumns(),
  },
  (t) => [
    index('feedback_contact_idx').on(t.contactId, t.type, t.createdAt),
    index('feedback_created_idx').on(t.createdAt, t.id),
    index('feedback_type_idx').on(t.type, t.createdAt),
    index('feedback_ticket_idx').on(t.ticketId),
    // NPS (service analytics "Satisfaction"): live answers by time with their score, read without the rows
    index('feedback_live_nps_idx').on(t.createdAt, t.score).where(sql`${t.deletedAt} IS NULL AND ${t.type} = 'nps'`),
    check('feedback_score_range', sql`(${t.type} = 'nps' AND ${t.score} BETWEEN 0 AND 10)
      OR (${t.type} = 'csat' AND ${t.score} BETWEEN 1 AND 5) OR (${t.type} = 'ces' AND ${t.score} BETWEEN 1 AND 7)`),
  ],
);

export type FeedbackRow = typeof feedback.$inferSelect;
