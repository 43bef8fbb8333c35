import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { WorkflowService } from './workflow.service.js';
import { plain } from './segment.resolvers.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same WorkflowService as REST: same permissions, validation and errors. */
export function workflowResolvers(workflows: WorkflowService): IResolvers {
  return {
    Query: {
      workflow: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        workflows.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      workflows: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await workflows.list(callerOf(ctx), listParamsFromGraphql(a))),
      workflowsCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        workflows.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), includeDeleted: a.includeDeleted ?? false }),
      workflowRuns: async (_: unknown, a: { id: string; first?: number | null; after?: string | null }, ctx: Ctx) =>
        toConnection(await workflows.runs(callerOf(ctx), a.id, { limit: a.first ?? undefined, cursor: a.after ?? undefined })),
    },
    Mutation: {
      createWorkflow: (_: unknown, a: { input: unknown }, ctx: Ctx) => workflows.create(callerOf(ctx), plain(a.input)),
      updateWorkflow: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        workflows.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteWorkflow: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await workflows.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreWorkflow: (_: unknown, a: { id: string }, ctx: Ctx) => workflows.restore(callerOf(ctx), a.id),
    },
  } as IResolvers;
}
