import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { DealService } from './deal.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type BatchArgs = { operation?: 'create' | 'update' | 'upsert' | 'delete'; records: unknown[]; atomic?: boolean };
type Loaded<T> = { obj: T }[];
type DealRef = { id: string; ownerId: string | null; companyId: string | null; pipelineId: string; stageId: string };

/** GraphQL over the same DealService as REST: same permissions, scope, validation and errors. */
export function dealResolvers(deals: DealService): IResolvers {
  return {
    Query: {
      deal: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        deals.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      deals: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await deals.list(callerOf(ctx), listParamsFromGraphql(a))),
      dealsCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        deals.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), q: a.q ?? undefined, includeDeleted: a.includeDeleted ?? false }),
      dealHistory: async (_: unknown, a: { id: string; first?: number | null; after?: string | null }, ctx: Ctx) =>
        toConnection(await deals.history(callerOf(ctx), a.id, { limit: a.first ?? undefined, cursor: a.after ?? undefined })),
    },
    Mutation: {
      createDeal: (_: unknown, a: { input: unknown }, ctx: Ctx) => deals.create(callerOf(ctx), plain(a.input)),
      updateDeal: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        deals.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteDeal: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await deals.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreDeal: (_: unknown, a: { id: string }, ctx: Ctx) => deals.restore(callerOf(ctx), a.id),
      batchDeals: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        deals.batch(callerOf(ctx), { operation: a.operation ?? 'create', records: a.records, atomic: a.atomic }),
    },
  } as IResolvers;
}

const ids = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => !!v))];

/** Relations in one query per relation per request, whatever the number of deals (no N+1). */
export function dealLoaders(deals: DealService): MercuriusLoaders {
  return {
    Deal: {
      owner: async (queries: Loaded<DealRef>) => {
        const owners = await deals.owners(queries.map((q) => q.obj.ownerId));
        return queries.map((q) => (q.obj.ownerId ? (owners.get(q.obj.ownerId) ?? null) : null));
      },
      company: async (queries: Loaded<DealRef>, ctx: Ctx) => {
        const found = await deals.companies(callerOf(ctx), ids(queries.map((q) => q.obj.companyId)));
        return queries.map((q) => (q.obj.companyId ? (found.get(q.obj.companyId) ?? null) : null));
      },
      contacts: async (queries: Loaded<DealRef>, ctx: Ctx) => {
        const byDeal = await deals.contactsOf(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => byDeal.get(q.obj.id) ?? []);
      },
      pipeline: async (queries: Loaded<DealRef>, ctx: Ctx) => {
        const found = await deals.pipelines(callerOf(ctx), queries.map((q) => q.obj.pipelineId));
        return queries.map((q) => found.get(q.obj.pipelineId) ?? null);
      },
      stage: async (queries: Loaded<DealRef>, ctx: Ctx) => {
        const found = await deals.stages(callerOf(ctx), queries.map((q) => q.obj.stageId));
        return queries.map((q) => found.get(q.obj.stageId) ?? null);
      },
    },
    Contact: {
      deals: async (queries: Loaded<{ id: string }>, ctx: Ctx) => {
        const byContact = await deals.ofContacts(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => byContact.get(q.obj.id) ?? []);
      },
    },
    Company: {
      deals: async (queries: Loaded<{ id: string }>, ctx: Ctx) => {
        const byCompany = await deals.ofCompanies(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => byCompany.get(q.obj.id) ?? []);
      },
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
