import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { IResolvers } from 'mercurius';
import { contextOf } from '../../platform/auth/authenticate.js';
import { callerOf } from '../../platform/graphql/index.js';
import { analyticsResponses } from './formats.js';
import { AcquisitionCost, MarketingCampaigns, MarketingQuery } from './marketing.schema.js';
import type { MarketingAnalytics } from './marketing.service.js';

const tags = ['analytics'];

/** REST over the same MarketingAnalytics as GraphQL (docs/metrics.md "Marketing"). */
export const marketingAnalyticsRoutes: FastifyPluginAsyncZod<{ marketing: MarketingAnalytics }> = async (app, { marketing }) => {
  app.get('/analytics/marketing/campaigns', {
    schema: { tags, operationId: 'analyticsMarketingCampaigns', summary: 'Per campaign started in the range: sent, delivery, open, click, conversion and unsubscribe rates, cost per conversion, revenue attributed', querystring: MarketingQuery, response: analyticsResponses(MarketingCampaigns) },
  }, async (req) => marketing.campaigns(contextOf(req), req.query));

  app.get('/analytics/customers/acquisition-cost', {
    schema: { tags, operationId: 'analyticsCustomersAcquisitionCost', summary: 'Campaign spend in the range per new customer (first counted order in the range), per currency', querystring: MarketingQuery, response: analyticsResponses(AcquisitionCost) },
  }, async (req) => marketing.acquisitionCost(contextOf(req), req.query));
};

type Ctx = Parameters<typeof callerOf>[0];
type Args = Record<string, unknown>;

/** The same MarketingAnalytics as REST. */
export function marketingAnalyticsResolvers(marketing: MarketingAnalytics): IResolvers {
  return {
    Query: {
      marketingCampaigns: (_: unknown, a: Args, ctx: Ctx) => marketing.campaigns(callerOf(ctx), a),
      customersAcquisitionCost: (_: unknown, a: Args, ctx: Ctx) => marketing.acquisitionCost(callerOf(ctx), a),
    },
  } as IResolvers;
}
