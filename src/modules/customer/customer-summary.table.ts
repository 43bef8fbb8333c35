import { index, integer, numeric, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../platform/db/columns.js';

// What the customer figures read of every customer (docs/metrics.md "Customers"), kept by the
// database itself: the statement triggers of migration 0019 recompute a contact's rows from its
// counted orders (live, paid or fulfilled) in the same transaction as every write to `orders`,
// whatever path wrote it (REST, GraphQL, sync upserts, imports, merges, erasure, plain SQL).
// Only what is exact whatever the range and time zone asked is kept: instants, counts and sums.
// A contact without counted orders has no row. Never written by the application. No foreign key to
// contacts: a row exists only while the contact has counted orders, whose own key already holds the
// contact, and a key check per recounted contact doubled the triggers' cost on 1 000-order batches.

/** Per customer, all currencies: the first and latest counted order and how many there are. */
export const customerOrderSummaries = pgTable(
  'customer_order_summaries',
  {
    contactId: uuid('contact_id').primaryKey(),
    firstAt: ts('first_at').notNull(),
    lastAt: ts('last_at').notNull(),
    orders: integer('orders').notNull(),
    // with three or more orders (else null): the second and the second-to-last, by placed_at, which
    // are all the orders between the first and the latest for up to four (retention reads the months
    // of those, and the orders themselves only for customers with five or more)
    secondAt: ts('second_at'),
    penultimateAt: ts('penultimate_at'),
  },
  // new customers, acquisition cost and retention cohorts: customers whose first order is in a range
  (t) => [index('customer_order_summaries_first_idx').on(t.firstAt, t.contactId)],
);

/** Per customer and currency: the counted orders' first and latest instants, count and exact sum. */
export const customerCurrencySummaries = pgTable(
  'customer_currency_summaries',
  {
    contactId: uuid('contact_id').notNull(),
    currency: text('currency').notNull(),
    firstAt: ts('first_at').notNull(),
    lastAt: ts('last_at').notNull(),
    orders: integer('orders').notNull(),
    revenue: numeric('revenue', { precision: 19, scale: 4 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.currency] })],
);
