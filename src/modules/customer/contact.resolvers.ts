import { type GraphQLResolveInfo, Kind } from 'graphql';
import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { ContactService } from './contact.service.js';
import type { CompanyService } from './company.service.js';
import type { CompanyDto } from './company.schema.js';
import type { contactWithCompanyReader } from './contact-company-read.js';

type Ctx = Parameters<typeof callerOf>[0];
type BatchArgs = { operation?: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string; records: unknown[]; atomic?: boolean };
type Loaded<T> = { obj: T }[];

/**
 * Companies read together with their contact (contact-company-read.ts), by the contact object the
 * `contact` resolver returned: the Contact.company loader answers those from here instead of a query.
 * Weak, so an entry lives exactly as long as the request's result object.
 */
const companyReadWith = new WeakMap<object, CompanyDto | null>();

/** Whether the query asks for `company` directly in the contact's selection (a fragment: the loader answers). */
const selectsCompany = (info: GraphQLResolveInfo) =>
  info.fieldNodes.some((f) => f.selectionSet?.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'company'));

/** GraphQL over the same ContactService as REST: same permissions, validation and errors. */
export function contactResolvers(contacts: ContactService, withCompany: ReturnType<typeof contactWithCompanyReader>): IResolvers {
  return {
    Query: {
      contact: async (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx, info: GraphQLResolveInfo) => {
        const o = { includeDeleted: a.includeDeleted ?? false };
        if (!selectsCompany(info)) return contacts.get(callerOf(ctx), a.id, o);
        const { contact, company } = await withCompany(callerOf(ctx), a.id, o);
        companyReadWith.set(contact, company);
        return contact;
      },
      contacts: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        toConnection(await contacts.list(callerOf(ctx), listParamsFromGraphql(a))),
      contactsCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        contacts.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), q: a.q ?? undefined, includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createContact: (_: unknown, a: { input: unknown }, ctx: Ctx) => contacts.create(callerOf(ctx), plain(a.input)),
      updateContact: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        contacts.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteContact: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await contacts.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreContact: (_: unknown, a: { id: string }, ctx: Ctx) => contacts.restore(callerOf(ctx), a.id),
      upsertContacts: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        contacts.batch(callerOf(ctx), { operation: 'upsert', idProperty: a.idProperty, records: a.records, atomic: a.atomic }),
      batchContacts: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        contacts.batch(callerOf(ctx), { operation: a.operation ?? 'create', idProperty: a.idProperty, records: a.records, atomic: a.atomic }),
    },
  } as IResolvers;
}

/** Relations resolve in one query per relation per request, whatever the number of records (no N+1). */
export function contactLoaders(contacts: ContactService, companies: CompanyService): MercuriusLoaders {
  return {
    Contact: {
      owner: async (queries: Loaded<{ ownerId: string | null }>) => {
        const owners = await contacts.owners(queries.map((q) => q.obj.ownerId));
        return queries.map((q) => (q.obj.ownerId ? (owners.get(q.obj.ownerId) ?? null) : null));
      },
      company: async (queries: Loaded<{ companyId: string | null }>, ctx: Ctx) => {
        const toLoad = queries.filter((q) => !companyReadWith.has(q.obj));
        const ids = [...new Set(toLoad.map((q) => q.obj.companyId).filter((id): id is string => !!id))];
        const found = ids.length ? await companies.getMany(callerOf(ctx), ids) : new Map<string, CompanyDto>();
        return queries.map((q) => {
          if (companyReadWith.has(q.obj)) return companyReadWith.get(q.obj);
          return q.obj.companyId ? (found.get(q.obj.companyId) ?? null) : null;
        });
      },
    },
    Company: {
      contacts: async (queries: Loaded<{ id: string }>, ctx: Ctx) => {
        const byCompany = await contacts.ofCompanies(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => byCompany.get(q.obj.id) ?? []);
      },
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
