import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { IResolvers } from 'mercurius';
import { contextOf } from '../../platform/auth/authenticate.js';
import { callerOf } from '../../platform/graphql/index.js';
import { analyticsResponses } from './formats.js';
import { Backlog, ResponseTimes, Satisfaction, ServicePlainQuery, ServiceQuery, SlaCompliance } from './service.schema.js';
import type { ServiceAnalytics } from './service.service.js';

const tags = ['analytics'];

/** REST over the same ServiceAnalytics as GraphQL (docs/metrics.md "Service"). */
export const serviceAnalyticsRoutes: FastifyPluginAsyncZod<{ service: ServiceAnalytics }> = async (app, { service }) => {
  app.get('/analytics/service/response-times', {
    schema: { tags, operationId: 'analyticsServiceResponseTimes', summary: 'First response and resolution times (calendar minutes: average, median, p90) of tickets created in the range', querystring: ServiceQuery, response: analyticsResponses(ResponseTimes) },
  }, async (req) => service.responseTimes(contextOf(req), req.query));

  app.get('/analytics/service/sla-compliance', {
    schema: { tags, operationId: 'analyticsServiceSlaCompliance', summary: 'Share of SLA targets met, of tickets created in the range', querystring: ServiceQuery, response: analyticsResponses(SlaCompliance) },
  }, async (req) => service.slaCompliance(contextOf(req), req.query));

  app.get('/analytics/service/backlog', {
    schema: { tags, operationId: 'analyticsServiceBacklog', summary: 'Open tickets now per status and priority; tickets created and solved in the range', querystring: ServicePlainQuery, response: analyticsResponses(Backlog) },
  }, async (req) => service.backlog(contextOf(req), req.query));

  app.get('/analytics/service/satisfaction', {
    schema: { tags, operationId: 'analyticsServiceSatisfaction', summary: 'CSAT of ticket ratings and NPS of NPS answers given in the range', querystring: ServicePlainQuery, response: analyticsResponses(Satisfaction) },
  }, async (req) => service.satisfaction(contextOf(req), req.query));
};

type Ctx = Parameters<typeof callerOf>[0];
type Args = Record<string, unknown>;

/** The same ServiceAnalytics as REST. */
export function serviceAnalyticsResolvers(service: ServiceAnalytics): IResolvers {
  return {
    Query: {
      serviceResponseTimes: (_: unknown, a: Args, ctx: Ctx) => service.responseTimes(callerOf(ctx), a),
      serviceSlaCompliance: (_: unknown, a: Args, ctx: Ctx) => service.slaCompliance(callerOf(ctx), a),
      serviceBacklog: (_: unknown, a: Args, ctx: Ctx) => service.backlog(callerOf(ctx), a),
      serviceSatisfaction: (_: unknown, a: Args, ctx: Ctx) => service.satisfaction(callerOf(ctx), a),
    },
  } as IResolvers;
}
