import { and, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { type LoyaltyTransactionRow, loyaltyBalances, loyaltyTransactions as lt } from './loyalty.table.js';
import { orders } from './order.table.js';

// Queries only: the ledger, the balance row every ledger write locks, and the reads of both.

/** The ledger newest first; the cursor grammar of every collection, with no filters. */
export const transactionCollection: CollectionSpec = {
  id: { expr: lt.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    createdAt: { expr: lt.createdAt, type: 'datetime', nullable: false, sortable: true, filterable: false },
  },
};

/** Makes sure the contact has a balance row, so there is always one row to lock (concurrent firsts insert once). */
export async function ensureBalanceRow(tx: Executor, contactId: string): Promise<void> {
  await tx.insert(loyaltyBalances).values({ contactId }).onConflictDoNothing({ target: loyaltyBalances.contactId });
}

/** The balance, locked: every ledger write of this contact waits here for the one before it. */
export async function lockBalance(tx: Executor, contactId: string): Promise<number> {
  const rows = await tx.select({ balance: loyaltyBalances.balance }).from(loyaltyBalances)
    .where(eq(loyaltyBalances.contactId, contactId)).for('update');
  return rows[0]?.balance ?? 0;
}

/** The CHECK (balance >= 0) is the last guard: an overdraw fails here even if the caller's arithmetic did not. */
export async function addToBalance(tx: Executor, contactId: string, points: number): Promise<number> {
  const rows = await tx.update(loyaltyBalances)
    .set({ balance: sql`${loyaltyBalances.balance} + ${points}`, updatedAt: sql`now()` })
    .where(eq(loyaltyBalances.contactId, contactId))
    .returning({ balance: loyaltyBalances.balance });
  return rows[0]?.balance ?? 0;
}

/** The earning already recorded for this order, if any (at most one: loyalty_transactions_order_earn_key). */
export async function findOrderEarn(db: Executor, orderId: string): Promise<LoyaltyTransactionRow | undefined> {
  const rows = await db.select().from(lt).where(and(eq(lt.orderId, orderId), gt(lt.points, 0))).limit(1);
  return rows[0];
}

/** Appends to the ledger; an earn for an order that already has one inserts nothing (undefined). */
export async function insertTransaction(tx: Executor, values: typeof lt.$inferInsert): Promise<LoyaltyTransactionRow | undefined> {
  const insert = tx.insert(lt).values(values);
  const rows = values.orderId && values.points > 0
    ? await insert.onConflictDoNothing({ target: lt.orderId, where: and(isNotNull(lt.orderId), gt(lt.points, 0)) }).returning()
    : await insert.returning();
  return rows[0];
}

export async function orderRef(db: Executor, orderId: string): Promise<{ contactId: string; deletedAt: Date | null } | undefined> {
  const rows = await db.select({ contactId: orders.contactId, deletedAt: orders.deletedAt }).from(orders).where(eq(orders.id, orderId));
  return rows[0];
}

export async function balancesOf(db: Executor, contactIds: readonly string[]): Promise<Map<string, number>> {
  if (contactIds.length === 0) return new Map();
  const rows = await db.select().from(loyaltyBalances).where(inArray(loyaltyBalances.contactId, [...contactIds]));
  return new Map(rows.map((r) => [r.contactId, r.balance]));
}

export async function listTransactions(db: Executor, contactId: string, list: CompiledList): Promise<LoyaltyTransactionRow[]> {
  return db.select().from(lt).where(and(eq(lt.contactId, contactId), list.where)).orderBy(...list.orderBy).limit(list.fetch);
}
