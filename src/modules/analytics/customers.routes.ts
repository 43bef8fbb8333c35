import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { analyticsResponses } from './formats.js';
import {
  Churn, ChurnQuery, CustomerQuery, CustomerSeriesQuery, LifetimeQuery, LifetimeValue, NewCustomers, OrderValue, RepeatPurchase,
  Retention, Rfm, RfmQuery,
} from './customers.schema.js';
import type { CustomerAnalytics } from './customers.service.js';

const tags = ['analytics'];

/** REST over the same CustomerAnalytics as GraphQL (docs/metrics.md "Customers"). */
export const customerAnalyticsRoutes: FastifyPluginAsyncZod<{ customers: CustomerAnalytics }> = async (app, { customers }) => {
  app.get('/analytics/customers/retention', {
    schema: { tags, operationId: 'analyticsCustomersRetention', summary: 'Monthly cohorts by first order: share of each cohort ordering in month n', querystring: CustomerQuery, response: analyticsResponses(Retention) },
  }, async (req) => customers.retention(contextOf(req), req.query));

  app.get('/analytics/customers/churn', {
    schema: { tags, operationId: 'analyticsCustomersChurn', summary: 'Customers ordering in the previous period and not in this one, over those ordering in the previous period', querystring: ChurnQuery, response: analyticsResponses(Churn) },
  }, async (req) => customers.churn(contextOf(req), req.query));

  app.get('/analytics/customers/repeat-purchase', {
    schema: { tags, operationId: 'analyticsCustomersRepeatPurchase', summary: 'Share of customers with two or more orders in the range', querystring: CustomerQuery, response: analyticsResponses(RepeatPurchase) },
  }, async (req) => customers.repeatPurchase(contextOf(req), req.query));

  app.get('/analytics/customers/order-value', {
    schema: { tags, operationId: 'analyticsCustomersOrderValue', summary: 'Orders, revenue and average order value per currency', querystring: CustomerSeriesQuery, response: analyticsResponses(OrderValue) },
  }, async (req) => customers.orderValue(contextOf(req), req.query));

  app.get('/analytics/customers/new', {
    schema: { tags, operationId: 'analyticsCustomersNew', summary: 'Customers whose first order falls in the range', querystring: CustomerSeriesQuery, response: analyticsResponses(NewCustomers) },
  }, async (req) => customers.newCustomers(contextOf(req), req.query));

  app.get('/analytics/customers/lifetime-value', {
    schema: { tags, operationId: 'analyticsCustomersLifetimeValue', summary: 'Historical and predicted customer value per currency', querystring: LifetimeQuery, response: analyticsResponses(LifetimeValue) },
  }, async (req) => customers.lifetimeValue(contextOf(req), req.query));

  app.get('/analytics/customers/rfm', {
    schema: { tags, operationId: 'analyticsCustomersRfm', summary: 'Customers per RFM segment (quintile scores), per currency', querystring: RfmQuery, response: analyticsResponses(Rfm) },
  }, async (req) => customers.rfm(contextOf(req), req.query));
};
