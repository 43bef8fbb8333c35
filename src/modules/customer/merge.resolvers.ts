import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { MergeService } from './merge.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type Args = { primaryId: string; duplicateIds: string[] };

/** GraphQL over the same MergeService as REST. */
export function mergeResolvers(merge: MergeService): IResolvers {
  return {
    Mutation: {
      mergeContacts: (_: unknown, a: Args, ctx: Ctx) => merge.mergeContacts(callerOf(ctx), { primaryId: a.primaryId, duplicateIds: [...a.duplicateIds] }),
      mergeCompanies: (_: unknown, a: Args, ctx: Ctx) => merge.mergeCompanies(callerOf(ctx), { primaryId: a.primaryId, duplicateIds: [...a.duplicateIds] }),
    },
  } as IResolvers;
}
