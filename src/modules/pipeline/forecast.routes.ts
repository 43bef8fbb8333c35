import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { Forecast, ForecastQuery } from './forecast.schema.js';
import type { ForecastService } from './forecast.service.js';

export const forecastRoutes: FastifyPluginAsyncZod<{ forecast: ForecastService }> = async (app, { forecast }) => {
  app.get('/forecast', {
    schema: {
      tags: ['forecast'], operationId: 'getForecast',
      summary: 'Open deals by expected close date, weighted by stage probability, against won deals, per month or quarter and currency',
      querystring: ForecastQuery, response: withProblems({ 200: Forecast }),
    },
  }, async (req) => forecast.forecast(contextOf(req), req.query));
};
