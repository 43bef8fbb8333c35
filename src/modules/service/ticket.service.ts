import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { type BatchResult, applyBatchOperation, runBatch } from '../../platform/http/batch.js';
import { type ContactDto, type CustomFieldLookup, rankedCollection, searchRank } from '../customer/index.js';
import { type TicketDto, TicketSatisfaction, toTicketDto } from './ticket.schema.js';
import type { TicketRow } from './ticket.table.js';
import * as repo from './ticket.repository.js';
import { type TicketWriterDeps, createTicketWriter } from './ticket-write.js';

export interface TicketServiceDeps extends TicketWriterDeps {
  db: Executor;
  /** resolves `custom.<key>` in filters and sorts */
  customFields?: CustomFieldLookup;
  /** name and email of users by id (include=assignee, Ticket.assignee) */
  owners: (ids: readonly (string | null)[]) => Promise<Map<string, { id: string; name: string; email: string }>>;
  /** live contacts by id in the caller's scope, one query (include=requester, Ticket.requester) */
  requesters: (ctx: RequestContext, ids: readonly string[]) => Promise<Map<string, ContactDto>>;
  /** records the rating as CSAT feedback on the requester, in the rating's transaction */
  feedback: { createIn(tx: Executor, ctx: RequestContext, raw: unknown): Promise<{ id: string }> };
}

/** Tickets per requester in relations (Contact.tickets): the newest this many; the rest are a filtered list away. */
export const TICKETS_PER_REQUESTER = 100;

type BatchRequest = { operation: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string | undefined; records: unknown[]; atomic?: boolean | undefined };

function parseId(id: string): string {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
  return id.toLowerCase();
}

/** A row's sort values including `custom.<key>`, so cursors of custom-field sorts round-trip. */
function sortValues(row: TicketRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const [k, v] of Object.entries(row.custom ?? {})) out[`custom.${k}`] = v;
  return out;
}

export function createTicketService(deps: TicketServiceDeps) {
  const { db } = deps;
  const writer = createTicketWriter(deps);
  const collection = async () =>
    deps.customFields ? { ...repo.ticketCollection, dynamicField: await deps.customFields('ticket', repo.ticketCustomColumn) } : repo.ticketCollection;

  function readOptions(ctx: RequestContext, includeDeleted: boolean | undefined): { includeDeleted: boolean } {
    assertCan(ctx.actor, 'tickets', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return { includeDeleted: includeDeleted ?? false };
  }

  /** Embeds the requested relations: one query per relation, whatever the page size. */
  async function withIncludes(ctx: RequestContext, items: TicketDto[], include: readonly string[] | undefined): Promise<TicketDto[]> {
    if (!include?.length || items.length === 0) return items;
    const [assignees, requesters] = await Promise.all([
      include.includes('assignee') ? deps.owners(items.map((i) => i.assigneeId)) : undefined,
      include.includes('requester') ? deps.requesters(ctx, [...new Set(items.map((i) => i.requesterId))]) : undefined,
    ]);
    return items.map((i) => ({
      ...i,
      ...(assignees ? { assignee: i.assigneeId ? (assignees.get(i.assigneeId) ?? null) : null } : {}),
      ...(requesters ? { requester: requesters.get(i.requesterId) ?? null } : {}),
    }));
  }

  /** For batch update and delete: the live ticket a record addresses (unlocked: the write locks it). */
  async function findByKey(tx: Executor, record: Record<string, unknown>): Promise<TicketRow | undefined> {
    const key = record.id;
    if (typeof key !== 'string' || !z.uuid().safeParse(key).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
    const row = await repo.findTicket(tx, key.toLowerCase());
    return row && !row.deletedAt ? row : undefined;
  }

  async function ofRequesters(ctx: RequestContext, ids: readonly string[], perRequester: number, onlyOpen: boolean) {
    assertCan(ctx.actor, 'tickets', 'read');
    const out = new Map<string, TicketDto[]>();
    for (const r of await repo.ticketsOfRequesters(db, ids, perRequester, onlyOpen)) {
      out.set(r.requesterId, [...(out.get(r.requesterId) ?? []), toTicketDto(r)]);
    }
    return out;
  }

  return {
    owners: deps.owners,
    requesters: deps.requesters,
    writer,

    async create(ctx: RequestContext, input: unknown): Promise<TicketDto> {
      assertCan(ctx.actor, 'tickets', 'write');
      return toTicketDto(await inTransaction(db, (tx) => writer.createIn(tx, ctx, input)));
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean; include?: readonly string[] | undefined } = {}): Promise<TicketDto> {
      readOptions(ctx, o.includeDeleted);
      const row = await repo.findTicket(db, parseId(id));
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Ticket');
      return (await withIncludes(ctx, [toTicketDto(row)], o.include))[0] as TicketDto;
    },

    /** Many by id for loaders: one query, deleted ids simply missing. */
    async getMany(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, TicketDto>> {
      assertCan(ctx.actor, 'tickets', 'read');
      return new Map((await repo.findTickets(db, ids)).map((r) => [r.id, toTicketDto(r)]));
    },

    async list(ctx: RequestContext, q: ParsedListQuery & { include?: readonly string[] | undefined }): Promise<Page<TicketDto>> {
      const o = readOptions(ctx, q.includeDeleted);
      const spec = await collection();
      const list = compileList(q.q ? rankedCollection(spec, repo.ticketSearchColumn, q.q) : spec, q);
      const rows = await repo.listTickets(db, list, {
        ...o, search: q.q ? repo.ticketSearch(q.q) : undefined, rank: q.q ? searchRank(repo.ticketSearchColumn, q.q) : undefined,
      });
      const page = toPage(list, rows, sortValues, toTicketDto);
      return { ...page, items: await withIncludes(ctx, page.items, q.include) };
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const o = readOptions(ctx, q.includeDeleted);
      return repo.countTickets(db, compileFilter(await collection(), q.filter), { ...o, search: q.q ? repo.ticketSearch(q.q) : undefined });
    },

    async update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<TicketDto> {
      assertCan(ctx.actor, 'tickets', 'write');
      const key = parseId(id);
      return toTicketDto((await inTransaction(db, (tx) => writer.updateIn(tx, ctx, key, patch, expectedVersion))).row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'tickets', 'write');
      const key = parseId(id);
      await inTransaction(db, (tx) => writer.removeIn(tx, ctx, key));
    },

    async restore(ctx: RequestContext, id: string): Promise<TicketDto> {
      assertCan(ctx.actor, 'tickets', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const key = parseId(id);
      return toTicketDto(await inTransaction(db, (tx) => writer.restoreIn(tx, ctx, key)));
    },

    /** create | update | delete by id (upsert by id updates the ticket or fails 404: ids are never chosen by clients). */
    async batch(ctx: RequestContext, req: BatchRequest): Promise<BatchResult[]> {
      assertCan(ctx.actor, 'tickets', 'write');
      if ((req.idProperty ?? 'id') !== 'id') throw validationFailed([{ path: 'idProperty', message: 'tickets are matched by id' }]);
      return inTransaction(db, (tx) =>
        runBatch(tx, req.records, req.atomic ?? false, ctx.requestId, (t, raw) =>
          applyBatchOperation(t, req.operation, 'id', raw, {
            entity: 'Ticket',
            create: (x, record) => writer.createIn(x, ctx, record),
            upsert: async (x, _key, record) => {
              const existing = await findByKey(x, record);
              if (!existing) throw notFound('Ticket');
              const { id: _id, ...fields } = record;
              const r = await writer.updateIn(x, ctx, existing.id, fields);
              return { id: existing.id, status: r.changed ? 'updated' : 'unchanged' };
            },
            lockByKey: (x, _key, record) => findByKey(x, record),
            update: (x, current, fields) => writer.updateIn(x, ctx, current.id, fields),
            remove: (x, id) => writer.removeIn(x, ctx, id),
          }),
        ),
      );
    },

    /**
     * The requester's rating of a solved or closed ticket, once: stored on the ticket and recorded as CSAT
     * feedback on the requester (ticketId set), in one transaction.
     */
    async rate(ctx: RequestContext, id: string, raw: unknown): Promise<TicketDto> {
      assertCan(ctx.actor, 'tickets', 'write');
      const input = parseInput(TicketSatisfaction, raw);
      const key = parseId(id);
      return toTicketDto(await inTransaction(db, async (tx) => {
        const current = await writer.lockLive(tx, key);
        if (current.status !== 'solved' && current.status !== 'closed') {
          throw new AppError('conflict', `Only a solved or closed ticket can be rated; this one is ${current.status}`, {
            errors: [{ path: 'status', message: 'must be solved or closed' }],
          });
        }
        if (current.satisfactionScore !== null) {
          throw new AppError('conflict', 'The ticket was rated already: a ticket takes one rating', {
            errors: [{ path: 'score', message: 'was given already' }],
          });
        }
        const comment = input.comment ?? null;
        await deps.feedback.createIn(tx, ctx, { type: 'csat', score: input.score, comment, contactId: current.requesterId, ticketId: current.id });
        return writer.sideEffectsIn(tx, ctx, current, {
          set: { satisfactionScore: input.score, satisfactionComment: comment, satisfactionAt: new Date() },
        });
      }));
    },

    /** Live tickets of each requester (Contact.tickets), newest first: one query. */
    ofContacts: (ctx: RequestContext, contactIds: readonly string[]) => ofRequesters(ctx, contactIds, TICKETS_PER_REQUESTER, false),

    /** The contact's open (new, open, pending) tickets, newest first (the 360 view): one query. */
    async openTicketsOf(ctx: RequestContext, contactId: string, limit: number): Promise<TicketDto[]> {
      return (await ofRequesters(ctx, [contactId], limit, true)).get(contactId) ?? [];
    },
  };
}

export type TicketService = ReturnType<typeof createTicketService>;
