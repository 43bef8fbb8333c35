import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { CustomFieldService } from './custom-field.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same CustomFieldService as REST: same permissions, validation and errors. */
export function customFieldResolvers(customFields: CustomFieldService): IResolvers {
  return {
    Query: {
      customFields: (_: unknown, a: { entity?: string | null }, ctx: Ctx) => customFields.listFor(callerOf(ctx), a.entity ?? undefined),
      customField: (_: unknown, a: { id: string }, ctx: Ctx) => customFields.get(callerOf(ctx), a.id),
    },
    Mutation: {
      createCustomField: (_: unknown, a: { input: unknown }, ctx: Ctx) => customFields.create(callerOf(ctx), plain(a.input)),
      updateCustomField: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        customFields.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteCustomField: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await customFields.remove(callerOf(ctx), a.id);
        return true;
      },
    },
  } as IResolvers;
}

/** graphql-js builds input objects without a prototype; zod wants plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
