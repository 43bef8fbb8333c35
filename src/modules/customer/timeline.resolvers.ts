import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { toConnection } from '../../platform/graphql/collection.js';
import type { TimelineService } from './timeline.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type TimelineArgs = { id: string; first?: number | null; after?: string | null };

/**
 * Timeline and 360 over GraphQL, through the same TimelineService as REST. Nested relations of the
 * 360 (Contact.company, Contact.owner, Activity.owner, …) resolve through the customer loaders, so a
 * whole contact360 query costs a constant number of statements.
 */
export function timelineResolvers(timeline: TimelineService): IResolvers {
  const page = (a: TimelineArgs) => ({ limit: a.first ?? undefined, cursor: a.after ?? undefined });
  return {
    Query: {
      contactTimeline: async (_: unknown, a: TimelineArgs, ctx: Ctx) =>
        toConnection(await timeline.contactTimeline(callerOf(ctx), a.id, page(a))),
      companyTimeline: async (_: unknown, a: TimelineArgs, ctx: Ctx) =>
        toConnection(await timeline.companyTimeline(callerOf(ctx), a.id, page(a))),
      contact360: (_: unknown, a: { id: string }, ctx: Ctx) => timeline.view360(callerOf(ctx), a.id),
    },
  } as IResolvers;
}
