import { z } from 'zod';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { Timestamp, Uuid } from '../../platform/http/common.schema.js';
import type { LoyaltyTransactionRow } from './loyalty.table.js';

/** points fit the integer column with room for any balance they add up to */
const MAX_POINTS = 1_000_000_000;

export const LoyaltyTransactionCreate = z
  .object({
    points: z
      .number()
      .int()
      .min(-MAX_POINTS)
      .max(MAX_POINTS)
      .refine((p) => p !== 0, 'must not be zero')
      .describe('positive earns, negative redeems; a redemption beyond the balance is 409 insufficient_points'),
    reason: z.string().trim().min(1).max(500),
    orderId: Uuid.nullable()
      .optional()
      .describe('an order of the same contact (422 otherwise); earning for an order happens once: a second earn answers the first (200)'),
  })
  .strict()
  .meta({ id: 'LoyaltyTransactionCreate' });

export type LoyaltyTransactionCreateInput = z.infer<typeof LoyaltyTransactionCreate>;

export const LoyaltyTransaction = z
  .object({
    id: Uuid,
    contactId: Uuid,
    points: z.number().int(),
    reason: z.string(),
    orderId: Uuid.nullable(),
    balanceAfter: z.number().int().describe('the balance right after this transaction'),
    createdAt: Timestamp,
    actorType: z.string().describe('user, api_key or system'),
    actorId: z.string().nullable(),
  })
  .meta({ id: 'LoyaltyTransaction' });

export type LoyaltyTransactionDto = z.infer<typeof LoyaltyTransaction>;

/**
 * GET /v1/contacts/:id/loyalty. The contract names `{balance, transactions}`; the transactions are a
 * ledger that only grows, so they are a collection like any other: `{data, nextCursor}`, newest first,
 * paged with `limit` and `cursor`.
 */
export const LoyaltyAccount = z
  .object({
    contactId: Uuid,
    balance: z.number().int().describe('the sum of the whole ledger; never below 0'),
    transactions: z.object({ data: z.array(LoyaltyTransaction), nextCursor: z.string().nullable() }),
  })
  .meta({ id: 'LoyaltyAccount' });

export const LoyaltyQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`Transactions per page, 1–${MAX_LIMIT}, default 50`),
    cursor: z.string().max(2048).optional().describe('The transactions.nextCursor of the previous page'),
  })
  .strict();

export const ContactParams = z.object({ id: Uuid });

export function toLoyaltyTransactionDto(r: LoyaltyTransactionRow): LoyaltyTransactionDto {
  return {
    id: r.id,
    contactId: r.contactId,
    points: r.points,
    reason: r.reason,
    orderId: r.orderId,
    balanceAfter: r.balanceAfter,
    createdAt: r.createdAt.toISOString(),
    actorType: r.actorType,
    actorId: r.actorId,
  };
}
