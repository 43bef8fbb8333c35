import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { SlaPolicyService } from './sla-policy.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same SlaPolicyService as REST: same permissions, validation and errors. */
export function slaPolicyResolvers(slaPolicies: SlaPolicyService): IResolvers {
  return {
    Query: {
      slaPolicy: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        slaPolicies.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      slaPolicies: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await slaPolicies.list(callerOf(ctx), listParamsFromGraphql(a))),
      slaPoliciesCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        slaPolicies.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createSlaPolicy: (_: unknown, a: { input: unknown }, ctx: Ctx) => slaPolicies.create(callerOf(ctx), plain(a.input)),
      updateSlaPolicy: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        slaPolicies.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteSlaPolicy: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await slaPolicies.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreSlaPolicy: (_: unknown, a: { id: string }, ctx: Ctx) => slaPolicies.restore(callerOf(ctx), a.id),
    },
  } as IResolvers;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
