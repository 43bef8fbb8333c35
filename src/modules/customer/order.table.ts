import { index, integer, numeric, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { nullableSortExprs as nullsLast } from '../../platform/db/sort-keys.js';
import { sql } from 'drizzle-orm';
import { idColumn, recordColumns, ts } from '../../platform/db/columns.js';
import { contacts } from './contact.table.js';

export const ORDER_STATUSES = ['pending', 'paid', 'fulfilled', 'cancelled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Orders from e-commerce and ERP systems (API.md §5), matched by their `externalId`. */
export const orders = pgTable(
  'orders',
  {
    ...recordColumns(),
    externalId: text('external_id'),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    status: text('status', { enum: ORDER_STATUSES }).notNull().default('pending'),
    /** exact to the currency's minor unit (3 decimals for KWD, 0 for JPY); checked by the service */
    total: numeric('total', { precision: 19, scale: 4 }).notNull(),
    currency: text('currency').notNull(),
    placedAt: ts('placed_at').notNull().defaultNow(),
  },
  (t) => [
    // unique among live orders: the upsert key of a sync (INSERT … ON CONFLICT arbitrates)
    uniqueIndex('orders_external_id_live_key').on(t.externalId).where(sql`${t.deletedAt} IS NULL`),
    index('orders_contact_placed_idx').on(t.contactId, t.placedAt),
    index('orders_placed_idx').on(t.placedAt, t.id),
    // the customer figures over a range (docs/metrics.md "Customers"): counted orders only, with every
    // column those figures read, so a range is an index-only scan instead of a visit to each order
    index('orders_counted_placed_idx').on(t.placedAt, t.contactId, t.currency, t.total)
      .where(sql`${t.deletedAt} IS NULL AND ${t.status} IN ('paid', 'fulfilled')`),
    // the customer summaries' recount of a contact (trigger of migration 0019) and retention's orders
    // of a customer between two instants, both index-only
    index('orders_counted_contact_idx').on(t.contactId, t.placedAt, t.currency, t.total)
      .where(sql`${t.deletedAt} IS NULL AND ${t.status} IN ('paid', 'fulfilled')`),
    index('orders_created_idx').on(t.createdAt, t.id),
    index('orders_updated_idx').on(t.updatedAt, t.id),
    // keyset sorts of API.md §2 (status also serves status filters); external ids in the
    // (IS NULL, coalesce) form of platform/db/sort-keys.ts
    index('orders_status_sort_idx').on(t.status, t.id),
    index('orders_total_sort_idx').on(t.total, t.id),
    index('orders_currency_sort_idx').on(t.currency, t.id),
    index('orders_external_id_sort_idx').on(...nullsLast(t.externalId, 'text'), t.id),
  ],
);

/** An order's lines, replaced whole when the order's `lines` are written. */
export const orderLines = pgTable(
  'order_lines',
  {
    id: idColumn(),
    orderId: uuid('order_id').notNull().references(() => orders.id),
    position: integer('position').notNull(),
    sku: text('sku'),
    name: text('name').notNull(),
    quantity: numeric('quantity', { precision: 19, scale: 4 }).notNull(),
    unitPrice: numeric('unit_price', { precision: 19, scale: 4 }).notNull(),
  },
  (t) => [uniqueIndex('order_lines_order_position_key').on(t.orderId, t.position)],
);

export type OrderRow = typeof orders.$inferSelect;
export type OrderInsert = typeof orders.$inferInsert;
export type OrderLineRow = typeof orderLines.$inferSelect;
