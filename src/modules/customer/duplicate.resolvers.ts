import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { toConnection } from '../../platform/graphql/collection.js';
import type { DuplicateService } from './duplicate.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type Args = { first?: number | null; after?: string | null; minScore?: number | null };

const query = (a: Args) => ({ limit: a.first ?? undefined, cursor: a.after ?? undefined, minScore: a.minScore ?? undefined });

/** GraphQL over the same DuplicateService as REST. */
export function duplicateResolvers(duplicates: DuplicateService): IResolvers {
  return {
    Query: {
      contactDuplicates: async (_: unknown, a: Args, ctx: Ctx) => toConnection(await duplicates.contacts(callerOf(ctx), query(a))),
      companyDuplicates: async (_: unknown, a: Args, ctx: Ctx) => toConnection(await duplicates.companies(callerOf(ctx), query(a))),
    },
  } as IResolvers;
}
