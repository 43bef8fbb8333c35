import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { Timestamp, Uuid } from '../../platform/http/common.schema.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { Activity } from './activity.schema.js';
import { Company } from './company.schema.js';
import { Contact } from './contact.schema.js';
import type { TimelineService } from './timeline.service.js';

export const TimelineItem = z
  .object({
    type: z.string().describe('activity, field_change, and the kinds other modules add: deal_stage (a deal created or moved), lead_converted'),
    occurredAt: Timestamp,
    entityType: z.string().describe('activity for activities; contact or company for field changes; deal or lead for pipeline items'),
    entityId: Uuid,
    summary: z.string().describe('"call: Intro" for an activity, "Changed email, jobTitle" for a field change'),
    data: z.record(z.string(), z.unknown()).describe('the activity record, or {before, after} holding only the changed fields'),
  })
  .meta({ id: 'TimelineItem' });

export const TimelinePage = z
  .object({ data: z.array(TimelineItem), nextCursor: z.string().nullable() })
  .meta({ id: 'TimelinePage' });

const Contact360Base = z
  .object({
    contact: Contact,
    company: Company.nullable(),
    recentActivities: z.array(Activity).describe('the 10 newest activities'),
    openTasks: z.array(Activity).describe('open tasks (completedAt null), soonest due first, at most 50'),
  })

/** The 360 contract: the customer module's fields plus each part other modules added (openDeals, …). */
function contact360Schema(timeline: TimelineService) {
  const extra = Object.fromEntries(timeline.view360Parts().map((p) => [p.key, p.schema]));
  return Contact360Base.extend(extra).meta({
    id: 'Contact360',
    description: 'openTickets, orders, lifetimeValue, loyaltyBalance and lastNps join as their modules land; until then they are absent, never zero',
  });
}

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
      summary: "The contact's activities, field changes, deals and converted leads, newest first, cursor-paged",
      params: Params, querystring: TimelineQuery, response: withProblems({ 200: TimelinePage }),
    },
  }, async (req) => {
    const page = await timeline.contactTimeline(contextOf(req), req.params.id, req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.get('/companies/:id/timeline', {
    schema: {
      tags: ['companies'], operationId: 'getCompanyTimeline',
      summary: "The company's own activities, field changes and deals, newest first, cursor-paged",
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
      params: Params, response: withProblems({ 200: contact360Schema(timeline) }),
    },
  }, async (req) => timeline.view360(contextOf(req), req.params.id));
};
