import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { LeadService } from './lead.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type BatchArgs = { operation?: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string; records: unknown[]; atomic?: boolean };

/** GraphQL over the same LeadService as REST: same permissions, validation and errors. */
export function leadResolvers(leads: LeadService): IResolvers {
  return {
    Query: {
      lead: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        leads.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      leads: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await leads.list(callerOf(ctx), listParamsFromGraphql(a))),
      leadsCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        leads.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), q: a.q ?? undefined, includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createLead: (_: unknown, a: { input: unknown }, ctx: Ctx) => leads.create(callerOf(ctx), plain(a.input)),
      updateLead: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        leads.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteLead: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await leads.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreLead: (_: unknown, a: { id: string }, ctx: Ctx) => leads.restore(callerOf(ctx), a.id),
      batchLeads: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        leads.batch(callerOf(ctx), { operation: a.operation ?? 'create', idProperty: a.idProperty, records: plain(a.records) as unknown[], atomic: a.atomic }),
    },
  } as IResolvers;
}

type Loaded<T> = { obj: T }[];
/** Records by id in the caller's scope, one query: what each relation of a lead is loaded with. */
export type ByIds = (ctx: ReturnType<typeof callerOf>, ids: readonly string[]) => Promise<Map<string, unknown>>;

function relation(key: string, load: ByIds) {
  return async (queries: Loaded<Record<string, string | null>>, ctx: Ctx) => {
    const ids = [...new Set(queries.map((q) => q.obj[key]).filter((id): id is string => !!id))];
    const found = ids.length ? await load(callerOf(ctx), ids) : new Map<string, unknown>();
    return queries.map((q) => (q.obj[key] ? (found.get(q.obj[key] as string) ?? null) : null));
  };
}

/**
 * Lead relations in one query per relation per request, whatever the number of leads (no N+1).
 * convertedDeal joins when the deals part provides its loader (see index.ts).
 */
export function leadLoaders(leads: LeadService, by: { contacts: ByIds; companies: ByIds; deals?: ByIds | undefined }): MercuriusLoaders {
  return {
    Lead: {
      owner: async (queries: Loaded<{ ownerId: string | null }>) => {
        const owners = await leads.owners(queries.map((q) => q.obj.ownerId));
        return queries.map((q) => (q.obj.ownerId ? (owners.get(q.obj.ownerId) ?? null) : null));
      },
      convertedContact: relation('convertedContactId', by.contacts),
      convertedCompany: relation('convertedCompanyId', by.companies),
      ...(by.deals ? { convertedDeal: relation('convertedDealId', by.deals) } : {}),
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
