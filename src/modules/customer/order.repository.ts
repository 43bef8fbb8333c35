import { type SQL, and, asc, count, desc, eq, getTableColumns, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { ORDER_STATUSES, type OrderInsert, type OrderRow, orderLines, orders } from './order.table.js';
import { contacts } from './contact.table.js';
import type { OrderRecord, StoredLine } from './order.schema.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const orderCollection: CollectionSpec = {
  id: { expr: orders.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-placedAt',
  fields: {
    id: { expr: orders.id, type: 'uuid', nullable: false, sortable: true },
    externalId: { expr: orders.externalId, type: 'string', nullable: true, sortable: true },
    contactId: { expr: orders.contactId, type: 'uuid', nullable: false },
    status: { expr: orders.status, type: 'enum', nullable: false, sortable: true, values: ORDER_STATUSES },
    total: { expr: orders.total, type: 'decimal', nullable: false, sortable: true },
    currency: { expr: orders.currency, type: 'string', nullable: false, sortable: true },
    placedAt: { expr: orders.placedAt, type: 'datetime', nullable: false, sortable: true },
    createdAt: { expr: orders.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: orders.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: orders.deletedAt, type: 'datetime', nullable: true },
  },
};

export const orderSortable = Object.entries(orderCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const orderFilterable = Object.keys(orderCollection.fields);

/**
 * An order's lines in position order as a column of the same statement (numerics as text: JSON
 * numbers would become floats). A page of orders and all their lines is therefore ONE query.
 * The outer id is spelled out: drizzle renders a bare column unqualified in a select list, and
 * order_lines has an `id` of its own that would capture it.
 */
export const linesOf = () => sql<StoredLine[]>`(
  SELECT coalesce(json_agg(json_build_object('sku', l.sku, 'name', l.name, 'quantity', l.quantity::text, 'unitPrice', l.unit_price::text)
         ORDER BY l.position), '[]'::json)
    FROM ${orderLines} l WHERE l.order_id = "orders"."id")`;

export const orderColumns = { ...getTableColumns(orders), lines: linesOf() };

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(orders.deletedAt));

export async function findOrder(db: Executor, id: string): Promise<OrderRecord | undefined> {
  const rows = await db.select(orderColumns).from(orders).where(eq(orders.id, id)).limit(1);
  return rows[0];
}

async function withLines(tx: Executor, row: OrderRow | undefined): Promise<OrderRecord | undefined> {
  if (!row) return undefined;
  const lines = await tx
    .select({ sku: orderLines.sku, name: orderLines.name, quantity: orderLines.quantity, unitPrice: orderLines.unitPrice })
    .from(orderLines).where(eq(orderLines.orderId, row.id)).orderBy(asc(orderLines.position));
  return { ...row, lines };
}

/** The row locked for a write, with its lines (read apart: FOR UPDATE and an aggregate do not mix). */
export async function lockOrder(tx: Executor, id: string): Promise<OrderRecord | undefined> {
  const rows = await tx.select().from(orders).where(eq(orders.id, id)).for('update');
  return withLines(tx, rows[0]);
}

export async function lockOrderByExternalId(tx: Executor, externalId: string): Promise<OrderRecord | undefined> {
  const rows = await tx.select().from(orders).where(and(eq(orders.externalId, externalId), isNull(orders.deletedAt))).for('update');
  return withLines(tx, rows[0]);
}

export async function listOrders(db: Executor, list: CompiledList, o: { includeDeleted: boolean; where?: SQL | undefined }): Promise<OrderRecord[]> {
  return db
    .select(orderColumns)
    .from(orders)
    .where(and(list.where, live(o.includeDeleted), o.where))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countOrders(db: Executor, where: SQL | undefined, o: { includeDeleted: boolean }): Promise<number> {
  const rows = await db.select({ n: count() }).from(orders).where(and(where, live(o.includeDeleted)));
  return Number(rows[0]?.n ?? 0);
}

export async function insertOrder(tx: Executor, values: OrderInsert): Promise<OrderRow> {
  const rows = await tx.insert(orders).values(values).returning();
  return rows[0] as OrderRow;
}

/**
 * Inserts unless a live order has the externalId: the partial unique index orders_external_id_live_key
 * arbitrates, so concurrent upserts of one externalId make one order. undefined: someone else won.
 */
export async function insertOrderUnlessExternalIdTaken(tx: Executor, values: OrderInsert): Promise<OrderRow | undefined> {
  const rows = await tx
    .insert(orders)
    .values(values)
    .onConflictDoNothing({ target: orders.externalId, where: isNull(orders.deletedAt) })
    .returning();
  return rows[0];
}

export async function updateOrder(tx: Executor, id: string, values: Partial<OrderInsert>): Promise<OrderRow> {
  const rows = await tx
    .update(orders)
    .set({ ...values, version: sql`${orders.version} + 1`, updatedAt: sql`now()` })
    .where(eq(orders.id, id))
    .returning();
  return rows[0] as OrderRow;
}

/** Replaces the order's lines with `lines`, in that order. */
export async function replaceLines(tx: Executor, orderId: string, lines: readonly StoredLine[]): Promise<void> {
  await tx.delete(orderLines).where(eq(orderLines.orderId, orderId));
  if (lines.length) await tx.insert(orderLines).values(lines.map((l, position) => ({ ...l, orderId, position })));
}

export async function liveContactExists(db: Executor, id: string): Promise<boolean> {
  const rows = await db.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.id, id), isNull(contacts.deletedAt)));
  return rows.length > 0;
}

/**
 * Live orders of each contact, newest placed first, at most `perContact` each, lines included: one
 * query with a window, so Contact.orders over a page of contacts stays one statement.
 */
export async function ordersOfContacts(db: Executor, contactIds: readonly string[], perContact: number): Promise<OrderRecord[]> {
  if (contactIds.length === 0) return [];
  const rn = sql<number>`row_number() over (partition by ${orders.contactId} order by ${orders.placedAt} desc, ${orders.id} desc)`.as('rn');
  const lines = sql<StoredLine[]>`${linesOf()}`.as('lines');
  const ranked = db
    .select({ ...getTableColumns(orders), lines, rn })
    .from(orders)
    .where(and(inArray(orders.contactId, [...contactIds]), isNull(orders.deletedAt)))
    .as('ranked');
  const rows = await db.select().from(ranked).where(lte(ranked.rn, perContact)).orderBy(desc(ranked.placedAt), desc(ranked.id));
  return rows.map(({ rn: _rn, ...o }) => o as unknown as OrderRecord);
}
