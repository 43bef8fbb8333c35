import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { type ModuleWorker, assembleModule } from '../../platform/module.js';
import type { CustomerServices } from '../customer/index.js';
import type { UserService } from '../identity/index.js';
import { BREACH_INTERVAL_MS, createBreachScheduler } from './sla-breach.js';
import { BUSINESS_TIMES_INTERVAL_MS, refreshBusinessTimes } from './ticket-business-times.js';
import { slaPolicyResolvers } from './sla-policy.resolvers.js';
import { slaPolicyRoutes } from './sla-policy.routes.js';
import { createSlaPolicyService } from './sla-policy.service.js';
import { createTicketService } from './ticket.service.js';
import { ticketRoutes } from './ticket.routes.js';
import { ticketLoaders, ticketResolvers } from './ticket.resolvers.js';
import { createTicketCommentService } from './ticket-comment.service.js';
import { ticketCommentRoutes } from './ticket-comment.routes.js';
import { moveTicketRequesters, openTicketsPart, ticketGdprPart, ticketTimelineSource } from './ticket-links.js';

export type ServiceServices = ReturnType<typeof serviceModule>['services'];
export { Ticket, ticketFieldNames } from './ticket.schema.js';
export { ticketFilterable, ticketSortable } from './ticket.repository.js';
// analytics measures response times in the same business time as the SLA clocks
export { type BusinessCalendar, businessMinutesBetween } from './business-time.js';
export { calendarOf } from './sla.js';
export { type MeasuredTicket, type TicketCalendars, freshBusinessTimes, measure, ticketCalendars } from './ticket-business-times.js';

export interface ServiceModuleDeps {
  config: Config;
  db: Executor;
  /** summaries embed assignees; teamMembers and activeUsers check assignments and drive round-robin */
  users: Pick<UserService, 'summaries' | 'teamMembers' | 'activeUsers'>;
  /** the customer module: requesters are contacts; tickets join the timeline, the 360 view and merges */
  customer: CustomerServices;
}

/**
 * The service module's face (API.md §5 "Service"): SLA policies counted in business time, tickets
 * with comments and satisfaction, and the breach scheduler. Each part adds its routes, GraphQL and workers below.
 */
export function serviceModule({ config, db, users, customer }: ServiceModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  const workers: ModuleWorker[] = [];
  void config; void db; void users; void customer;

  // ---- SLA policies and breach scheduler (sla-policy.*, business-time.ts, sla-breach.*) ----
  const slaPolicies = createSlaPolicyService({ db });
  routes.push(async (app) => app.register(slaPolicyRoutes, { slaPolicies }));
  graphql.push({ resolvers: slaPolicyResolvers(slaPolicies) });
  const breaches = createBreachScheduler();
  // every ~30 s: overdue, unannounced targets become ticket.sla_breached events (once, whatever the instances)
  workers.push({ name: 'sla breaches', intervalMs: BREACH_INTERVAL_MS, run: (x) => breaches.drain(x) });
  // every ~30 s (and at once while a full batch came back): tickets' business-time durations measured
  // and stored where missing or stale (new answers, edited calendars), for analytics
  workers.push({ name: 'ticket business times', intervalMs: BUSINESS_TIMES_INTERVAL_MS, run: (x) => refreshBusinessTimes(x) });

  // ---- tickets, comments and satisfaction (ticket.*, ticket-comment.*) ----
  const tickets = createTicketService({
    db, validateCustom: customer.customFields.validateCustom, customFields: customer.customFields.filterFields,
    users, policies: slaPolicies, contacts: customer.contacts, feedback: customer.feedback,
    owners: (ids) => users.summaries(ids), requesters: (ctx, ids) => customer.activities.contacts(ctx, ids),
  });
  const ticketComments = createTicketCommentService({ db, writer: tickets.writer });
  routes.push(async (app) => app.register(ticketRoutes, { tickets }));
  routes.push(async (app) => app.register(ticketCommentRoutes, { comments: ticketComments }));
  graphql.push({ resolvers: ticketResolvers(tickets, ticketComments), loaders: ticketLoaders(tickets, ticketComments) });
  // tickets on the contact timeline and in its 360 view; merges move them; GDPR exports and erases them (ticket-links.ts)
  customer.timeline.addSource(ticketTimelineSource);
  customer.timeline.add360Part(openTicketsPart(tickets));
  customer.merge.registerLinkMover('contact', moveTicketRequesters);
  customer.gdpr.addPart(ticketGdprPart);

  return assembleModule({ slaPolicies, breaches, tickets, ticketComments }, { routes, graphql, workers });
}
