import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { ImportFormat } from './import.schema.js';
import type { ImportService } from './import.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type CreateArgs = { entity: string; idProperty: string; format: ImportFormat; content: string };

/** GraphQL over the same ImportService as REST; createImport takes the file inline (small files). */
export function importResolvers(imports: ImportService): IResolvers {
  return {
    Query: {
      importJob: (_: unknown, a: { id: string }, ctx: Ctx) => imports.get(callerOf(ctx), a.id),
      importJobs: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await imports.list(callerOf(ctx), listParamsFromGraphql(a))),
    },
    Mutation: {
      createImport: (_: unknown, a: CreateArgs, ctx: Ctx) =>
        imports.create(callerOf(ctx), { entity: a.entity, idProperty: a.idProperty, format: a.format, content: [a.content] }),
    },
    ImportJob: {
      // lists carry no errors: loaded for the jobs whose errors are asked for
      errors: (job: { id: string; errors?: unknown }, _: unknown, ctx: Ctx) => job.errors ?? imports.errors(callerOf(ctx), job.id),
    },
  } as IResolvers;
}
