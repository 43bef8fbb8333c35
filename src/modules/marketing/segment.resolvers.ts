import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { SegmentService } from './segment.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same SegmentService as REST: same permissions, validation and errors. */
export function segmentResolvers(segments: SegmentService): IResolvers {
  return {
    Query: {
      segment: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        segments.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      segments: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await segments.list(callerOf(ctx), listParamsFromGraphql(a))),
      segmentsCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        segments.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), includeDeleted: a.includeDeleted ?? false }),
      segmentContacts: async (_: unknown, a: GraphqlListArgs & { id: string }, ctx: Ctx) =>
        toConnection(await segments.members(callerOf(ctx), a.id, listParamsFromGraphql(a))),
      segmentContactsCount: (_: unknown, a: GraphqlListArgs & { id: string }, ctx: Ctx) =>
        segments.memberCount(callerOf(ctx), a.id, { filter: filterFromGraphql(a.filter), q: a.q ?? undefined }),
    },
    Mutation: {
      createSegment: (_: unknown, a: { input: unknown }, ctx: Ctx) => segments.create(callerOf(ctx), plain(a.input)),
      updateSegment: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        segments.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteSegment: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await segments.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreSegment: (_: unknown, a: { id: string }, ctx: Ctx) => segments.restore(callerOf(ctx), a.id),
    },
  } as IResolvers;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
export function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
