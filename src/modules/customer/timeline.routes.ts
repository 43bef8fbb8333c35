import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { Timestamp, Uuid } from '../../platform/http/common.schema.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { Activity } from './activity.schema.js';
import { Company } from './company.schema.js';
import { Contact } from './contact.schema.js';
import { TIMELINE_KINDS } from './timeline.repository.js';
import type { TimelineService } from './timeline.service.js';

export const TimelineItem = z
  .object({
    type: z.enum(TIMELINE_KINDS).describe('activity | field_change; deal, ticket, order and campaign events join when their modules land'),
    occurredAt: Timestamp,
    entityType: z.string().describe('activity for activities; contact or company for field changes'),
    entityId: Uuid,
    summary: z.string().describe('"call: Intro" for an activity, "Changed email, jobTitle" for a field change'),
    data: z.record(z.string(), z.unknown()).describe('the activity record, or {before, after} holding only the changed fields'),
  })
  .meta({ id: 'TimelineItem' });

export const TimelinePage = z
  .object({ data: z.array(TimelineItem), nextCursor: z.string().nullable() })
  .meta({ id: 'TimelinePage' });

export const Contact360 = z
  .object({
    contact: Contact,
    company: Company.nullable(),
    recentActivities: z.array(Activity).describe('the 10 newest activities'),
    openTasks: z.array(Activity).describe('open tasks (completedAt null), soonest due first, at most 50'),
  })
  .meta({
    id: 'Contact360',
    description: 'openDeals, openTickets, orders, lifetimeValue, loyaltyBalance and lastNps join when their modules land; until then they are absent, never zero',
  });

const TimelineQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`Page size, 1–${MAX_LIMIT}, default 50`),
    cursor: z.string().max(2048).optional().describe('The nextCursor of the previous page'),
  })
  .strict();

const Params = z.object({ id: Uuid });

export const timelineRoutes: FastifyPluginAsyncZod<{ timeline: TimelineService }> = async (app, { timeline }) => {
  app.get('/contacts/:id/timeline', {
    schema: {
      tags: ['contacts'], operationId: 'getContactTimeline',
      summary: "The contact's activities and field changes, newest first, cursor-paged",
      params: Params, querystring: TimelineQuery, response: withProblems({ 200: TimelinePage }),
    },
  }, async (req) => {
    const page = await timeline.contactTimeline(contextOf(req), req.params.id, req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.get('/companies/:id/timeline', {
    schema: {
      tags: ['companies'], operationId: 'getCompanyTimeline',
      summary: "The company's own activities and field changes, newest first, cursor-paged",
      params: Params, querystring: TimelineQuery, response: withProblems({ 200: TimelinePage }),
    },
  }, async (req) => {
    const page = await timeline.companyTimeline(contextOf(req), req.params.id, req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.get('/contacts/:id/360', {
    schema: {
      tags: ['contacts'], operationId: 'getContact360',
      summary: 'The whole customer in one call: contact, company, recent activities, open tasks',
      params: Params, response: withProblems({ 200: Contact360 }),
    },
  }, async (req) => timeline.view360(contextOf(req), req.params.id));
};
