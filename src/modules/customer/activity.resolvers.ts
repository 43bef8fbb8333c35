import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { ActivityService } from './activity.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type Loaded<T> = { obj: T }[];

/** GraphQL over the same ActivityService as REST: same permissions, validation and errors. */
export function activityResolvers(activities: ActivityService): IResolvers {
  return {
    Query: {
      activity: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        activities.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      activities: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        toConnection(await activities.list(callerOf(ctx), listParamsFromGraphql(a))),
      activitiesCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        activities.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), q: a.q ?? undefined, includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createActivity: (_: unknown, a: { input: unknown }, ctx: Ctx) => activities.create(callerOf(ctx), plain(a.input)),
      updateActivity: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        activities.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteActivity: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await activities.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreActivity: (_: unknown, a: { id: string }, ctx: Ctx) => activities.restore(callerOf(ctx), a.id),
    },
  } as IResolvers;
}

/** Relations resolve in one query per relation per request, whatever the number of activities (no N+1). */
export function activityLoaders(activities: ActivityService): MercuriusLoaders {
  const distinct = (ids: (string | null)[]) => [...new Set(ids.filter((id): id is string => !!id))];
  return {
    Activity: {
      owner: async (queries: Loaded<{ ownerId: string | null }>) => {
        const owners = await activities.owners(queries.map((q) => q.obj.ownerId));
        return queries.map((q) => (q.obj.ownerId ? (owners.get(q.obj.ownerId) ?? null) : null));
      },
      company: async (queries: Loaded<{ companyId: string | null }>, ctx: Ctx) => {
        const found = await activities.companies(callerOf(ctx), distinct(queries.map((q) => q.obj.companyId)));
        return queries.map((q) => (q.obj.companyId ? (found.get(q.obj.companyId) ?? null) : null));
      },
      contact: async (queries: Loaded<{ contactId: string | null }>, ctx: Ctx) => {
        const found = await activities.contacts(callerOf(ctx), distinct(queries.map((q) => q.obj.contactId)));
        return queries.map((q) => (q.obj.contactId ? (found.get(q.obj.contactId) ?? null) : null));
      },
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
