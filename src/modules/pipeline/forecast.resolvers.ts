import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { ForecastService } from './forecast.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type ForecastArgs = { from?: string | null; to?: string | null; interval?: string | null; groupBy?: string | null };

/** The same ForecastService as REST; money-per-currency maps travel as the JSON scalar. */
export function forecastResolvers(forecast: ForecastService): IResolvers {
  return {
    Query: {
      forecast: (_: unknown, a: ForecastArgs, ctx: Ctx) =>
        // absent and null arguments both mean "not given", as an absent query parameter does in REST
        forecast.forecast(callerOf(ctx), Object.fromEntries(Object.entries(a).filter(([, v]) => v !== null && v !== undefined))),
    },
  } as IResolvers;
}
