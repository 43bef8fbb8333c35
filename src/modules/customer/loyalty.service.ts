import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { newId } from '../../platform/db/columns.js';
import { driverError } from '../../platform/db/errors.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { issuesToFieldErrors } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ContactDto } from './contact.schema.js';
import { LoyaltyTransactionCreate, type LoyaltyTransactionDto, toLoyaltyTransactionDto } from './loyalty.schema.js';
import type { LoyaltyTransactionRow } from './loyalty.table.js';
import * as repo from './loyalty.repository.js';
import { liveContactExists } from './order.repository.js';

// The points ledger (API.md §5 loyalty). Append-only: no update or delete exists, a correction is
// another transaction. Every write of a contact's ledger locks that contact's balance row first, so
// writes of one contact run one after the other; the CHECK (balance >= 0) is the last guard.

export interface LoyaltyServiceDeps {
  db: Executor;
  /** a contact the caller may read, else 404: the contact service's get */
  contact: (ctx: RequestContext, id: string) => Promise<ContactDto>;
}

export interface LoyaltyAccountDto {
  contactId: string;
  balance: number;
  transactions: Page<LoyaltyTransactionDto>;
}

const ENTITY = 'loyalty_transaction';

function insufficient(balance: number, points: number): AppError {
  return new AppError('insufficient_points', `The balance is ${balance} points; redeeming ${-points} would take it below 0`, {
    errors: [{ path: 'points', message: `exceeds the balance of ${balance}` }],
    extensions: { balance },
  });
}

export function createLoyaltyService(deps: LoyaltyServiceDeps) {
  const { db } = deps;

  async function append(tx: Executor, ctx: RequestContext, contactId: string, raw: unknown): Promise<{ row: LoyaltyTransactionRow; created: boolean }> {
    const parsed = LoyaltyTransactionCreate.safeParse(raw);
    if (!parsed.success) throw validationFailed(issuesToFieldErrors(parsed.error.issues));
    const { points, reason } = parsed.data;
    const orderId = parsed.data.orderId?.toLowerCase() ?? null;
    if (!(await liveContactExists(tx, contactId))) throw notFound('Contact');
    if (orderId) {
      const order = await repo.orderRef(tx, orderId);
      if (!order || order.deletedAt || order.contactId !== contactId) {
        throw new AppError('invalid_reference', 'A referenced record does not exist', {
          errors: [{ path: 'orderId', message: 'does not reference a live order of this contact' }],
        });
      }
    }
    await repo.ensureBalanceRow(tx, contactId);
    const balance = await repo.lockBalance(tx, contactId);
    // earning for an order happens once: a retry or a second earn answers the first one
    const earnsForOrder = orderId !== null && points > 0;
    if (earnsForOrder) {
      const existing = await repo.findOrderEarn(tx, orderId);
      if (existing) return { row: existing, created: false };
    }
    if (balance + points < 0) throw insufficient(balance, points);
    const row = await repo.insertTransaction(tx, {
      // id and time taken under the lock, so newest-first order is the order the balance moved in
      id: newId(), contactId, points, reason, orderId, balanceAfter: balance + points,
      actorType: ctx.actor.type, actorId: ctx.actor.id, createdAt: sql`clock_timestamp()` as unknown as Date,
    });
    if (!row) return { row: (await repo.findOrderEarn(tx, orderId as string)) as LoyaltyTransactionRow, created: false };
    try {
      await repo.addToBalance(tx, contactId, points);
    } catch (e) {
      if (driverError(e)?.code === '23514') throw insufficient(balance, points);
      throw e;
    }
    const dto = toLoyaltyTransactionDto(row);
    await recordAudit(tx, ctx, { action: 'create', entityType: ENTITY, entityId: row.id, before: null, after: dto });
    await emit(tx, ctx, { type: 'loyalty.transaction_created', entityType: ENTITY, entityId: row.id, before: null, after: dto });
    return { row, created: true };
  }

  return {
    /** 201 with the new transaction, or `created: false` with the order's existing earn (answered 200). */
    async createTransaction(ctx: RequestContext, contactId: string, input: unknown): Promise<{ transaction: LoyaltyTransactionDto; created: boolean }> {
      assertCan(ctx.actor, 'loyalty', 'write');
      const r = await inTransaction(db, (tx) => append(tx, ctx, contactId.toLowerCase(), input));
      return { transaction: toLoyaltyTransactionDto(r.row), created: r.created };
    },

    /** The balance and one page of the ledger, newest first; 404 when the caller may not see the contact. */
    async account(ctx: RequestContext, contactId: string, q: { limit?: number | undefined; cursor?: string | undefined }): Promise<LoyaltyAccountDto> {
      assertCan(ctx.actor, 'loyalty', 'read');
      const contact = await deps.contact(ctx, contactId);
      const list = compileList(repo.transactionCollection, { limit: q.limit, cursor: q.cursor });
      const [balances, rows] = await Promise.all([repo.balancesOf(db, [contact.id]), repo.listTransactions(db, contact.id, list)]);
      return {
        contactId: contact.id,
        balance: balances.get(contact.id) ?? 0,
        transactions: toPage(list, rows, (r) => ({ ...r }), toLoyaltyTransactionDto),
      };
    },

    /** Contact.loyaltyBalance: balances by contact in one query; no row yet means 0. */
    async balances(ctx: RequestContext, contactIds: readonly string[]): Promise<Map<string, number>> {
      assertCan(ctx.actor, 'loyalty', 'read');
      return repo.balancesOf(db, [...new Set(contactIds)]);
    },
  };
}

export type LoyaltyService = ReturnType<typeof createLoyaltyService>;
