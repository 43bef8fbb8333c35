import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { toConnection } from '../../platform/graphql/collection.js';
import type { LoyaltyService } from './loyalty.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same LoyaltyService as REST. A repeated earn for an order answers the existing transaction here too. */
export function loyaltyResolvers(loyalty: LoyaltyService): IResolvers {
  return {
    Query: {
      loyalty: async (_: unknown, a: { contactId: string; first?: number | null; after?: string | null }, ctx: Ctx) => {
        const account = await loyalty.account(callerOf(ctx), a.contactId, { limit: a.first ?? undefined, cursor: a.after ?? undefined });
        return { ...account, transactions: toConnection(account.transactions) };
      },
    },
    Mutation: {
      createLoyaltyTransaction: async (_: unknown, a: { contactId: string; input: unknown }, ctx: Ctx) =>
        (await loyalty.createTransaction(callerOf(ctx), a.contactId, JSON.parse(JSON.stringify(a.input)))).transaction,
    },
  } as IResolvers;
}

/** Contact.loyaltyBalance in one query per request, whatever the number of contacts. */
export function loyaltyLoaders(loyalty: LoyaltyService): MercuriusLoaders {
  return {
    Contact: {
      loyaltyBalance: async (queries: { obj: { id: string } }[], ctx: Ctx) => {
        const balances = await loyalty.balances(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => balances.get(q.obj.id) ?? 0);
      },
    },
  } as MercuriusLoaders;
}
