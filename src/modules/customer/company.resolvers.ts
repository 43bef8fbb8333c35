import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { CompanyService } from './company.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type BatchArgs = { operation?: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string; records: unknown[]; atomic?: boolean };

/** GraphQL over the same CompanyService as REST: same permissions, validation and errors. */
export function companyResolvers(companies: CompanyService): IResolvers {
  return {
    Query: {
      company: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        companies.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      companies: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        toConnection(await companies.list(callerOf(ctx), listParamsFromGraphql(a))),
      companiesCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        companies.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), q: a.q ?? undefined, includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createCompany: (_: unknown, a: { input: unknown }, ctx: Ctx) => companies.create(callerOf(ctx), plain(a.input)),
      updateCompany: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        companies.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteCompany: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await companies.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreCompany: (_: unknown, a: { id: string }, ctx: Ctx) => companies.restore(callerOf(ctx), a.id),
      upsertCompanies: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        companies.batch(callerOf(ctx), { operation: 'upsert', idProperty: a.idProperty, records: a.records, atomic: a.atomic }),
      batchCompanies: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        companies.batch(callerOf(ctx), { operation: a.operation ?? 'create', idProperty: a.idProperty, records: a.records, atomic: a.atomic }),
    },
  } as IResolvers;
}

/** Relations resolve in one query per request, whatever the number of companies (no N+1). */
export function companyLoaders(companies: CompanyService): MercuriusLoaders {
  return {
    Company: {
      owner: async (queries: { obj: { ownerId: string | null } }[]) => {
        const owners = await companies.owners(queries.map((q) => q.obj.ownerId));
        return queries.map((q) => (q.obj.ownerId ? (owners.get(q.obj.ownerId) ?? null) : null));
      },
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
