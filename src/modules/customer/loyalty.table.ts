import { check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, ts } from '../../platform/db/columns.js';
import { contacts } from './contact.table.js';
import { orders } from './order.table.js';

/**
 * The append-only points ledger (API.md §5 loyalty): earning is positive, redemption negative.
 * Rows are never updated or deleted; a correction is another row.
 */
export const loyaltyTransactions = pgTable(
  'loyalty_transactions',
  {
    id: idColumn(),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    points: integer('points').notNull(),
    reason: text('reason').notNull(),
    orderId: uuid('order_id').references(() => orders.id),
    /** the balance right after this row: the ledger explains every balance */
    balanceAfter: integer('balance_after').notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('loyalty_transactions_contact_idx').on(t.contactId, t.createdAt, t.id),
    // earning tied to an order happens once per order, whatever retries or races do
    uniqueIndex('loyalty_transactions_order_earn_key').on(t.orderId).where(sql`${t.orderId} IS NOT NULL AND ${t.points} > 0`),
    check('loyalty_transactions_points_nonzero', sql`${t.points} <> 0`),
  ],
);

/** The running balance per contact, locked by every ledger write; the CHECK is the last guard against overdraw. */
export const loyaltyBalances = pgTable(
  'loyalty_balances',
  {
    contactId: uuid('contact_id').primaryKey().references(() => contacts.id),
    balance: integer('balance').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [check('loyalty_balances_non_negative', sql`${t.balance} >= 0`)],
);

export type LoyaltyTransactionRow = typeof loyaltyTransactions.$inferSelect;
