import { asc, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { type ContactRow, contacts } from './contact.table.js';
import { type CompanyRow, companies } from './company.table.js';
import { loyaltyBalances } from './loyalty.table.js';

// Queries of a merge. The records are locked FOR NO KEY UPDATE: enough to serialise merges and
// writes of the same records, while inserts that merely reference them (an order, a ledger row: their
// foreign keys take KEY SHARE) do not wait on the merge, so they cannot deadlock against it.

/** The records, locked in id order: two merges over overlapping records queue instead of deadlocking. */
export async function lockContacts(tx: Executor, ids: readonly string[]): Promise<ContactRow[]> {
  return tx.select().from(contacts).where(inArray(contacts.id, [...ids])).orderBy(asc(contacts.id)).for('no key update');
}

export async function lockCompanies(tx: Executor, ids: readonly string[]): Promise<CompanyRow[]> {
  return tx.select().from(companies).where(inArray(companies.id, [...ids])).orderBy(asc(companies.id)).for('no key update');
}

export interface Relinked {
  id: string;
  /** the duplicate it pointed to */
  old: string;
}

/**
 * Points `table.column` of every row linked to a duplicate at the primary; versioned records also get
 * a new version. The outer IN is checked again after a concurrent writer's commit, so a link changed
 * meanwhile to a third record is left as that writer set it.
 */
export async function relink(
  tx: Executor, table: string, column: string, primaryId: string, duplicateIds: readonly string[], versioned: boolean,
): Promise<Relinked[]> {
  const t = sql.identifier(table);
  const c = sql.identifier(column);
  const ids = sql.join(duplicateIds.map((id) => sql`${id}::uuid`), sql`, `);
  const bump = versioned ? sql`, version = t.version + 1, updated_at = now()` : sql``;
  const { rows } = await queryRows<Relinked>(tx, sql`
    UPDATE ${t} AS t SET ${c} = ${primaryId}::uuid${bump}
    FROM (SELECT id, ${c} AS old FROM ${t} WHERE ${c} IN (${ids})) o
    WHERE t.id = o.id AND t.${c} IN (${ids})
    RETURNING t.id, o.old`);
  return rows;
}

/**
 * The ledger follows the person: the duplicates' transactions move to the primary unchanged (their
 * balance_after stays the duplicate's running balance at the time), their balances are added to the
 * primary's, and their balance rows go. The invariant the loyalty module keeps, balance = sum of the
 * contact's points, holds after the merge as before. Balance rows are locked in contact id order.
 */
export async function moveLoyalty(tx: Executor, primaryId: string, duplicateIds: readonly string[]): Promise<{ transactions: Relinked[]; points: number }> {
  const held = await tx.select().from(loyaltyBalances)
    .where(inArray(loyaltyBalances.contactId, [primaryId, ...duplicateIds]))
    .orderBy(asc(loyaltyBalances.contactId)).for('update');
  const transactions = await relink(tx, 'loyalty_transactions', 'contact_id', primaryId, duplicateIds, false);
  const theirs = held.filter((b) => b.contactId !== primaryId);
  const points = theirs.reduce((s, b) => s + b.balance, 0);
  if (theirs.length) await tx.delete(loyaltyBalances).where(inArray(loyaltyBalances.contactId, theirs.map((b) => b.contactId)));
  if (theirs.length || transactions.length) {
    await tx.insert(loyaltyBalances).values({ contactId: primaryId, balance: points }).onConflictDoUpdate({
      target: loyaltyBalances.contactId,
      set: { balance: sql`${loyaltyBalances.balance} + excluded.balance`, updatedAt: sql`now()` },
    });
  }
  return { transactions, points };
}
