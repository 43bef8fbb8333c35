import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { FeedService } from './feed.service.js';

type Ctx = Parameters<typeof callerOf>[0];
interface EventsArgs { after?: string | null; types?: string[] | null; entityType?: string | null; entityId?: string | null; first?: number | null }

/** GraphQL over the same FeedService as REST: same permissions, cursors and errors. */
export function feedResolvers(feed: FeedService): IResolvers {
  return {
    Query: {
      events: (_: unknown, a: EventsArgs, ctx: Ctx) =>
        feed.list(callerOf(ctx), { after: a.after, types: a.types, entityType: a.entityType, entityId: a.entityId, limit: a.first }),
    },
  } as IResolvers;
}
