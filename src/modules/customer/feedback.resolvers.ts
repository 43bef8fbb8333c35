import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { FeedbackService } from './feedback.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type Loaded<T> = { obj: T }[];

/** GraphQL over the same FeedbackService as REST: same permissions, validation and errors. */
export function feedbackResolvers(feedback: FeedbackService): IResolvers {
  return {
    Query: {
      feedback: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        feedback.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      feedbacks: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await feedback.list(callerOf(ctx), listParamsFromGraphql(a))),
      feedbacksCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        feedback.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), includeDeleted: a.includeDeleted ?? false }),
    },
    Mutation: {
      createFeedback: (_: unknown, a: { input: unknown }, ctx: Ctx) => feedback.create(callerOf(ctx), plain(a.input)),
      updateFeedback: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        feedback.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteFeedback: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await feedback.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreFeedback: (_: unknown, a: { id: string }, ctx: Ctx) => feedback.restore(callerOf(ctx), a.id),
    },
  } as IResolvers;
}

/** Relations resolve in one query per relation per request (no N+1). */
export function feedbackLoaders(feedback: FeedbackService): MercuriusLoaders {
  return {
    Feedback: {
      owner: async (queries: Loaded<{ ownerId: string | null }>) => {
        const owners = await feedback.owners(queries.map((q) => q.obj.ownerId));
        return queries.map((q) => (q.obj.ownerId ? (owners.get(q.obj.ownerId) ?? null) : null));
      },
      contact: async (queries: Loaded<{ contactId: string }>, ctx: Ctx) => {
        const found = await feedback.contacts(callerOf(ctx), [...new Set(queries.map((q) => q.obj.contactId))]);
        return queries.map((q) => found.get(q.obj.contactId) ?? null);
      },
    },
    Contact: {
      feedback: async (queries: Loaded<{ id: string }>, ctx: Ctx) => {
        const byContact = await feedback.ofContacts(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => byContact.get(q.obj.id) ?? []);
      },
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
