import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { CustomerAnalytics } from './customers.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type Args = Record<string, unknown>;

/** The same CustomerAnalytics as REST; arguments carry the REST parameter names (null = not given). */
export function customerAnalyticsResolvers(customers: CustomerAnalytics): IResolvers {
  return {
    Query: {
      customersRetention: (_: unknown, a: Args, ctx: Ctx) => customers.retention(callerOf(ctx), a),
      customersChurn: (_: unknown, a: Args, ctx: Ctx) => customers.churn(callerOf(ctx), a),
      customersRepeatPurchase: (_: unknown, a: Args, ctx: Ctx) => customers.repeatPurchase(callerOf(ctx), a),
      customersOrderValue: (_: unknown, a: Args, ctx: Ctx) => customers.orderValue(callerOf(ctx), a),
      customersNew: (_: unknown, a: Args, ctx: Ctx) => customers.newCustomers(callerOf(ctx), a),
      customersLifetimeValue: (_: unknown, a: Args, ctx: Ctx) => customers.lifetimeValue(callerOf(ctx), a),
      customersRfm: (_: unknown, a: Args, ctx: Ctx) => customers.rfm(callerOf(ctx), a),
    },
  } as IResolvers;
}
