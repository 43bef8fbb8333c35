import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { analyticsResponses } from './formats.js';
import { CycleLength, DealSize, Funnel, FunnelQuery, LeadSources, PlainQuery, SalesQuery, Velocity, WinRate } from './sales.schema.js';
import type { SalesAnalytics } from './sales.service.js';
import { ForecastAccuracy, ForecastAccuracyQuery, StageDuration, StageDurationQuery } from './sales-history.schema.js';
import type { SalesHistoryAnalytics } from './sales-history.service.js';

const tags = ['analytics'];

/** REST over the same SalesAnalytics as GraphQL (docs/metrics.md "Sales"). */
export const salesAnalyticsRoutes: FastifyPluginAsyncZod<{ sales: SalesAnalytics; history: SalesHistoryAnalytics }> = async (app, { sales, history }) => {
  app.get('/analytics/sales/funnel', {
    schema: { tags, operationId: 'analyticsSalesFunnel', summary: 'Deals created in the range reaching each stage, per pipeline, with stage-to-stage conversion', querystring: FunnelQuery, response: analyticsResponses(Funnel) },
  }, async (req) => sales.funnel(contextOf(req), req.query));

  app.get('/analytics/sales/win-rate', {
    schema: { tags, operationId: 'analyticsSalesWinRate', summary: 'won / (won + lost) of deals closed in the range', querystring: SalesQuery, response: analyticsResponses(WinRate) },
  }, async (req) => sales.winRate(contextOf(req), req.query));

  app.get('/analytics/sales/cycle-length', {
    schema: { tags, operationId: 'analyticsSalesCycleLength', summary: 'Average and median days from creation to close of deals won in the range', querystring: SalesQuery, response: analyticsResponses(CycleLength) },
  }, async (req) => sales.cycleLength(contextOf(req), req.query));

  app.get('/analytics/sales/deal-size', {
    schema: { tags, operationId: 'analyticsSalesDealSize', summary: 'Average amount of deals won in the range, per currency', querystring: SalesQuery, response: analyticsResponses(DealSize) },
  }, async (req) => sales.dealSize(contextOf(req), req.query));

  app.get('/analytics/sales/velocity', {
    schema: { tags, operationId: 'analyticsSalesVelocity', summary: 'Pipeline velocity per currency: open deals × win rate × average won amount / cycle days', querystring: PlainQuery, response: analyticsResponses(Velocity) },
  }, async (req) => sales.velocity(contextOf(req), req.query));

  app.get('/analytics/sales/lead-sources', {
    schema: { tags, operationId: 'analyticsSalesLeadSources', summary: 'Leads created in the range per source, converted, conversion rate', querystring: PlainQuery, response: analyticsResponses(LeadSources) },
  }, async (req) => sales.leadSources(contextOf(req), req.query));

  app.get('/analytics/sales/stage-duration', {
    schema: { tags, operationId: 'analyticsSalesStageDuration', summary: 'Days deals stayed in each open stage (stays ended in the range), and open deals in it now', querystring: StageDurationQuery, response: analyticsResponses(StageDuration) },
  }, async (req) => history.stageDuration(contextOf(req), req.query));

  app.get('/analytics/sales/forecast-accuracy', {
    schema: { tags, operationId: 'analyticsSalesForecastAccuracy', summary: 'Per period: the weighted forecast as it stood at the period start against the amount won in the period, per currency', querystring: ForecastAccuracyQuery, response: analyticsResponses(ForecastAccuracy) },
  }, async (req) => history.forecastAccuracy(contextOf(req), req.query));
};
