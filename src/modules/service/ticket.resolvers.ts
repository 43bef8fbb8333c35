import type { IResolvers, MercuriusLoaders } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, filterFromGraphql, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { TicketService } from './ticket.service.js';
import type { TicketCommentService } from './ticket-comment.service.js';

type Ctx = Parameters<typeof callerOf>[0];
type BatchArgs = { operation?: 'create' | 'update' | 'upsert' | 'delete'; records: unknown[]; atomic?: boolean };
type Loaded<T> = { obj: T }[];
type TicketRef = { id: string; requesterId: string; assigneeId: string | null };
type CommentArgs = { ticketId: string; first?: number | null; after?: string | null; sort?: GraphqlListArgs['sort']; filter?: GraphqlListArgs['filter'] };

/** GraphQL over the same ticket and comment services as REST: same permissions, validation and errors. */
export function ticketResolvers(tickets: TicketService, comments: TicketCommentService): IResolvers {
  return {
    Query: {
      ticket: (_: unknown, a: { id: string; includeDeleted?: boolean }, ctx: Ctx) =>
        tickets.get(callerOf(ctx), a.id, { includeDeleted: a.includeDeleted ?? false }),
      tickets: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await tickets.list(callerOf(ctx), listParamsFromGraphql(a))),
      ticketsCount: (_: unknown, a: GraphqlListArgs, ctx: Ctx) =>
        tickets.count(callerOf(ctx), { filter: filterFromGraphql(a.filter), q: a.q ?? undefined, includeDeleted: a.includeDeleted ?? false }),
      ticketComments: async (_: unknown, a: CommentArgs, ctx: Ctx) => {
        const { limit, cursor, sort, filter } = listParamsFromGraphql(a);
        return toConnection(await comments.list(callerOf(ctx), a.ticketId, { limit, cursor, sort, filter }));
      },
    },
    Mutation: {
      createTicket: (_: unknown, a: { input: unknown }, ctx: Ctx) => tickets.create(callerOf(ctx), plain(a.input)),
      updateTicket: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        tickets.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteTicket: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await tickets.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreTicket: (_: unknown, a: { id: string }, ctx: Ctx) => tickets.restore(callerOf(ctx), a.id),
      batchTickets: (_: unknown, a: BatchArgs, ctx: Ctx) =>
        tickets.batch(callerOf(ctx), { operation: a.operation ?? 'create', records: a.records, atomic: a.atomic }),
      rateTicket: (_: unknown, a: { id: string; input: unknown }, ctx: Ctx) => tickets.rate(callerOf(ctx), a.id, plain(a.input)),
      createTicketComment: (_: unknown, a: { ticketId: string; input: unknown }, ctx: Ctx) =>
        comments.create(callerOf(ctx), a.ticketId, plain(a.input)),
      updateTicketComment: (_: unknown, a: { ticketId: string; id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        comments.update(callerOf(ctx), a.ticketId, a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteTicketComment: async (_: unknown, a: { ticketId: string; id: string }, ctx: Ctx) => {
        await comments.remove(callerOf(ctx), a.ticketId, a.id);
        return true;
      },
    },
  } as IResolvers;
}

/** Relations in one query per relation per request, whatever the number of tickets (no N+1). */
export function ticketLoaders(tickets: TicketService, comments: TicketCommentService): MercuriusLoaders {
  return {
    Ticket: {
      requester: async (queries: Loaded<TicketRef>, ctx: Ctx) => {
        const found = await tickets.requesters(callerOf(ctx), [...new Set(queries.map((q) => q.obj.requesterId))]);
        return queries.map((q) => found.get(q.obj.requesterId) ?? null);
      },
      assignee: async (queries: Loaded<TicketRef>) => {
        const users = await tickets.owners(queries.map((q) => q.obj.assigneeId));
        return queries.map((q) => (q.obj.assigneeId ? (users.get(q.obj.assigneeId) ?? null) : null));
      },
      comments: async (queries: Loaded<TicketRef>, ctx: Ctx) => {
        const byTicket = await comments.ofTickets(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => byTicket.get(q.obj.id) ?? []);
      },
    },
    TicketComment: {
      ticket: async (queries: Loaded<{ ticketId: string }>, ctx: Ctx) => {
        const found = await tickets.getMany(callerOf(ctx), [...new Set(queries.map((q) => q.obj.ticketId))]);
        return queries.map((q) => found.get(q.obj.ticketId) ?? null);
      },
    },
    Contact: {
      tickets: async (queries: Loaded<{ id: string }>, ctx: Ctx) => {
        const byContact = await tickets.ofContacts(callerOf(ctx), queries.map((q) => q.obj.id));
        return queries.map((q) => byContact.get(q.obj.id) ?? []);
      },
    },
  } as MercuriusLoaders;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
