import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { SalesAnalytics } from './sales.service.js';
import type { SalesHistoryAnalytics } from './sales-history.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type Args = Record<string, unknown>;

/** The same SalesAnalytics as REST; arguments carry the REST parameter names (null = not given). */
export function salesAnalyticsResolvers(sales: SalesAnalytics, history: SalesHistoryAnalytics): IResolvers {
  return {
    Query: {
      salesFunnel: (_: unknown, a: Args, ctx: Ctx) => sales.funnel(callerOf(ctx), a),
      salesWinRate: (_: unknown, a: Args, ctx: Ctx) => sales.winRate(callerOf(ctx), a),
      salesCycleLength: (_: unknown, a: Args, ctx: Ctx) => sales.cycleLength(callerOf(ctx), a),
      salesDealSize: (_: unknown, a: Args, ctx: Ctx) => sales.dealSize(callerOf(ctx), a),
      salesVelocity: (_: unknown, a: Args, ctx: Ctx) => sales.velocity(callerOf(ctx), a),
      salesLeadSources: (_: unknown, a: Args, ctx: Ctx) => sales.leadSources(callerOf(ctx), a),
      salesStageDuration: (_: unknown, a: Args, ctx: Ctx) => history.stageDuration(callerOf(ctx), a),
      salesForecastAccuracy: (_: unknown, a: Args, ctx: Ctx) => history.forecastAccuracy(callerOf(ctx), a),
    },
  } as IResolvers;
}
