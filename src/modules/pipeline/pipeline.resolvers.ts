import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { PipelineService } from './pipeline.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same PipelineService as REST. Stages are embedded in the record, so no loader is needed. */
export function pipelineResolvers(pipelines: PipelineService): IResolvers {
  return {
    Query: {
      pipeline: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        pipelines.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      pipelines: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        toConnection(await pipelines.list(callerOf(ctx), listParamsFromGraphql(a))),
      pipelinesCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        pipelines.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createPipeline: (_: unknown, a: { input: unknown }, ctx: Ctx) => pipelines.create(callerOf(ctx), plain(a.input)),
      updatePipeline: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        pipelines.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deletePipeline: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await pipelines.remove(callerOf(ctx), a.id);
        return true;
      },
      restorePipeline: (_: unknown, a: { id: string }, ctx: Ctx) => pipelines.restore(callerOf(ctx), a.id),
    },
  } as IResolvers;
}

/** graphql-js builds input objects without a prototype, and leaves absent fields out; zod wants plain objects. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
