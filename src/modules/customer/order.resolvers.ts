import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { ORDERS_PER_CONTACT, type OrderService } from './order.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type BatchArgs = { operation?: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string; records: unknown[]; atomic?: boolean };

/** GraphQL over the same OrderService as REST: same permissions, validation and errors. */
export function orderResolvers(orders: OrderService): IResolvers {
  return {
    Query: {
      order: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        orders.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      orders: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await orders.list(callerOf(ctx), listParamsFromGraphql(a))),
      ordersCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        orders.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createOrder: (_: unknown, a: { input: unknown }, ctx: Ctx) => orders.create(callerOf(ctx), plain(a.input)),
      updateOrder: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        orders.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteOrder: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await orders.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreOrder: (_: unknown, a: { id: string }, ctx: Ctx) => orders.restore(callerOf(ctx), a.id),
      batchOrders: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        orders.batch(callerOf(ctx), { operation: a.operation ?? 'create', idProperty: a.idProperty, records: a.records, atomic: a.atomic }),
    },
  } as IResolvers;
}

/** Contact.orders in one query per request, whatever the number of contacts (no N+1). */
export function orderLoaders(orders: OrderService): MercuriusLoaders {
  return {
    Contact: {
      orders: async (queries: { obj: { id: string }; params: { first?: number | null } }[], ctx: Ctx) => {
        const firsts = queries.map((q) => q.params.first ?? ORDERS_PER_CONTACT);
        if (firsts.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_LIMIT)) {
          throw validationFailed([{ path: 'first', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
        }
        const byContact = await orders.ofContacts(callerOf(ctx), queries.map((q) => q.obj.id), Math.max(...firsts));
        return queries.map((q, i) => (byContact.get(q.obj.id) ?? []).slice(0, firsts[i]));
      },
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod wants plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
