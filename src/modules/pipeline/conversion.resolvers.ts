import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { ConversionService } from './conversion.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** convertLead over the same ConversionService as REST. */
export function conversionResolvers(conversion: ConversionService): IResolvers {
  return {
    Mutation: {
      convertLead: (_: unknown, a: { id: string; input?: unknown }, ctx: Ctx) =>
        conversion.convert(callerOf(ctx), a.id, a.input == null ? {} : JSON.parse(JSON.stringify(a.input))),
    },
  } as IResolvers;
}
