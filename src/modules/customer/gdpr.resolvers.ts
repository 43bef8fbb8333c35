import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { GdprService } from './gdpr.service.js';

type Ctx = Parameters<typeof callerOf>[0];

export function gdprResolvers(gdpr: GdprService): IResolvers {
  return {
    Query: {
      contactExport: (_: unknown, a: { id: string }, ctx: Ctx) => gdpr.export(callerOf(ctx), a.id),
    },
    Mutation: {
      eraseContact: (_: unknown, a: { id: string }, ctx: Ctx) => gdpr.erase(callerOf(ctx), a.id),
    },
  } as IResolvers;
}
