import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { IResolvers } from 'mercurius';
import { contextOf } from '../../platform/auth/authenticate.js';
import { callerOf } from '../../platform/graphql/index.js';
import { analyticsResponses } from './formats.js';
import { Kpis, KpisQuery } from './kpis.schema.js';
import type { KpisService } from './kpis.service.js';
import { TeamPerformance, TeamQuery, type TeamAnalytics } from './team.service.js';

export const kpisRoutes: FastifyPluginAsyncZod<{ kpis: KpisService; team: TeamAnalytics }> = async (app, { kpis, team }) => {
  app.get('/analytics/team/performance', {
    schema: {
      tags: ['analytics'], operationId: 'analyticsTeamPerformance',
      summary: 'Per owner or team: deals won and amount, activities logged, tickets solved, median first response',
      querystring: TeamQuery, response: analyticsResponses(TeamPerformance),
    },
  }, async (req) => team.performance(contextOf(req), req.query));

  app.get('/analytics/kpis', {
    schema: {
      tags: ['analytics'], operationId: 'analyticsKpis',
      summary: 'Dashboard summary: each figure for the range and the previous range of equal length, with the change',
      querystring: KpisQuery, response: analyticsResponses(Kpis),
    },
  }, async (req, reply) => {
    const { maxAge, ...summary } = await kpis.kpis(contextOf(req), req.query);
    // served from the per-process cache for maxAge more seconds (asOf: when it was computed)
    reply.header('cache-control', `private, max-age=${maxAge}`);
    return summary;
  });
};

type Ctx = Parameters<typeof callerOf>[0];

/** The same services as REST. */
export function kpisResolvers(kpis: KpisService, team: TeamAnalytics): IResolvers {
  return {
    Query: {
      analyticsKpis: (_: unknown, a: Record<string, unknown>, ctx: Ctx) => kpis.kpis(callerOf(ctx), a),
      teamPerformance: (_: unknown, a: Record<string, unknown>, ctx: Ctx) => team.performance(callerOf(ctx), a),
    },
  } as IResolvers;
}
