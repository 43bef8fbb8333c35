import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { CampaignService } from './campaign.service.js';
import type { EngagementService } from './engagement.service.js';
import type { SegmentService } from './segment.service.js';
import { plain } from './segment.resolvers.js';

type Ctx = Parameters<typeof callerOf>[0];
type Loaded<T> = { obj: T }[];

/** GraphQL over the same campaign and engagement services as REST: same permissions, validation and errors. */
export function campaignResolvers(campaigns: CampaignService, engagement: EngagementService): IResolvers {
  return {
    Query: {
      campaign: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        campaigns.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      campaigns: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await campaigns.list(callerOf(ctx), listParamsFromGraphql(a))),
      campaignsCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        campaigns.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), includeDeleted: a.includeDeleted ?? false }),
      campaignStats: (_: unknown, a: { id: string }, ctx: Ctx) => campaigns.stats(callerOf(ctx), a.id),
    },
    Mutation: {
      createCampaign: (_: unknown, a: { input: unknown }, ctx: Ctx) => campaigns.create(callerOf(ctx), plain(a.input)),
      updateCampaign: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        campaigns.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteCampaign: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await campaigns.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreCampaign: (_: unknown, a: { id: string }, ctx: Ctx) => campaigns.restore(callerOf(ctx), a.id),
      sendCampaign: (_: unknown, a: { id: string; at?: string | null }, ctx: Ctx) =>
        campaigns.send(callerOf(ctx), a.id, a.at ? { at: a.at } : {}),
      cancelCampaign: (_: unknown, a: { id: string }, ctx: Ctx) => campaigns.cancel(callerOf(ctx), a.id),
      recordCampaignEvents: (_: unknown, a: { id: string; events: unknown[] }, ctx: Ctx) =>
        engagement.ingest(callerOf(ctx), a.id, plain({ events: a.events.map((e) => stripNulls(e as Record<string, unknown>)) })),
    },
  } as IResolvers;
}

/** GraphQL sends absent optional inputs as absent, but clients often write null: both mean "not given" here. */
function stripNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}

/** Campaign.segment in one query per request; Campaign.stats per campaign (a detail view's field). */
export function campaignLoaders(segments: SegmentService, campaigns: CampaignService): MercuriusLoaders {
  return {
    Campaign: {
      segment: async (queries: Loaded<{ segmentId: string | null }>, ctx: Ctx) => {
        const found = await segments.getMany(callerOf(ctx), queries.flatMap((q) => (q.obj.segmentId ? [q.obj.segmentId] : [])));
        return queries.map((q) => (q.obj.segmentId ? found.get(q.obj.segmentId) ?? null : null));
      },
      stats: async (queries: Loaded<{ id: string }>, ctx: Ctx) =>
        Promise.all(queries.map((q) => campaigns.stats(callerOf(ctx), q.obj.id))),
    },
  } as MercuriusLoaders;
}
