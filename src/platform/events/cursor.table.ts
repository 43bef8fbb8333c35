import { bigint, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from '../db/columns.js';

/** How far a background consumer of the change feed has read (webhook fan-out, campaign attribution, workflows). */
export const feedCursors = pgTable('feed_cursors', {
  name: text('name').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull().default(0),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
