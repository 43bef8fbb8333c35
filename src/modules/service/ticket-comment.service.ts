import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { type TicketCommentDto, TicketCommentCreate, TicketCommentPatch, toTicketCommentDto } from './ticket-comment.schema.js';
import type { TicketCommentRow, TicketRow } from './ticket.table.js';
import * as repo from './ticket-comment.repository.js';
import { findTicket } from './ticket.repository.js';
import type { TicketSideEffects, TicketWriter } from './ticket-write.js';

// Comments on a ticket. A public comment by an agent (a user or an API key) is the first response
// when none came before; a public comment in the requester's words (fromRequester) on a pending or
// solved ticket hands it back to the agents: open again, SLA clock running.

const ENTITY = 'ticket_comment';
const ACTIONS: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted' };
/** Ticket.comments lists at most this many per ticket (oldest first); the rest are GET /v1/tickets/:id/comments */
export const COMMENTS_PER_TICKET = 100;

function parseId(id: string, path: string): string {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path, message: 'must be a UUID' }]);
  return id.toLowerCase();
}

function assertOpenForComments(ticket: TicketRow): void {
  if (ticket.status === 'closed') {
    throw new AppError('conflict', 'The ticket is closed: closed is final, it takes no more comments', {
      errors: [{ path: 'ticketId', message: 'names a closed ticket' }],
    });
  }
}

/** What the new comment does to its ticket. */
function effectsOf(ticket: TicketRow, comment: TicketCommentRow): TicketSideEffects | undefined {
  if (comment.visibility !== 'public') return undefined;
  if (comment.authorType === 'contact') {
    return ticket.status === 'pending' || ticket.status === 'solved' ? { status: 'open' } : undefined;
  }
  return ticket.firstRespondedAt ? undefined : { set: { firstRespondedAt: new Date() } };
}

export function createTicketCommentService(deps: { db: Executor; writer: TicketWriter }) {
  const { db, writer } = deps;

  async function written(tx: Executor, ctx: RequestContext, action: string, before: TicketCommentRow | null, after: TicketCommentRow) {
    const b = before ? toTicketCommentDto(before) : null;
    const a = toTicketCommentDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    await emit(tx, ctx, { type: `${ENTITY}.${ACTIONS[action] ?? action}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
  }

  /** The live comment of a live, not closed ticket, both locked (ticket first, as create does). */
  async function lockBoth(tx: Executor, ticketId: string, commentId: string) {
    const ticket = await writer.lockLive(tx, parseId(ticketId, 'id'));
    assertOpenForComments(ticket);
    const comment = await repo.lockComment(tx, ticket.id, parseId(commentId, 'commentId'));
    if (!comment || comment.deletedAt) throw notFound('Comment');
    return { ticket, comment };
  }

  return {
    async list(ctx: RequestContext, ticketId: string, q: ParsedListQuery): Promise<Page<TicketCommentDto>> {
      assertCan(ctx.actor, 'tickets', 'read');
      const ticket = await findTicket(db, parseId(ticketId, 'id'));
      if (!ticket || ticket.deletedAt) throw notFound('Ticket');
      const list = compileList(repo.commentCollection, q);
      return toPage(list, await repo.listComments(db, ticket.id, list), (r) => ({ ...r }), toTicketCommentDto);
    },

    async create(ctx: RequestContext, ticketId: string, raw: unknown): Promise<TicketCommentDto> {
      assertCan(ctx.actor, 'tickets', 'write');
      const input = parseInput(TicketCommentCreate, raw);
      if (input.fromRequester && input.visibility === 'internal') {
        throw validationFailed([{ path: 'visibility', message: 'a comment from the requester is public' }]);
      }
      const id = parseId(ticketId, 'id');
      const row = await inTransaction(db, async (tx) => {
        const ticket = await writer.lockLive(tx, id);
        assertOpenForComments(ticket);
        const comment = await repo.insertComment(tx, {
          ticketId: ticket.id,
          body: input.body,
          visibility: input.visibility ?? 'public',
          authorType: input.fromRequester ? 'contact' : ctx.actor.type === 'api_key' ? 'api_key' : 'user',
          authorId: input.fromRequester ? ticket.requesterId : ctx.actor.type === 'system' ? null : ctx.actor.id,
        });
        await written(tx, ctx, 'create', null, comment);
        const effects = effectsOf(ticket, comment);
        if (effects) await writer.sideEffectsIn(tx, ctx, ticket, effects);
        return comment;
      });
      return toTicketCommentDto(row);
    },

    async update(ctx: RequestContext, ticketId: string, commentId: string, raw: unknown, expectedVersion?: number): Promise<TicketCommentDto> {
      assertCan(ctx.actor, 'tickets', 'write');
      const patch = parseInput(TicketCommentPatch, raw);
      const row = await inTransaction(db, async (tx) => {
        const { comment } = await lockBoth(tx, ticketId, commentId);
        if (expectedVersion !== undefined && expectedVersion !== comment.version) {
          throw new AppError('version_conflict', `The comment is at version ${comment.version}, not ${expectedVersion}`, {
            extensions: { current: toTicketCommentDto(comment) },
          });
        }
        if (patch.body === undefined || patch.body === comment.body) return comment;
        const updated = await repo.updateComment(tx, comment.id, { body: patch.body });
        await written(tx, ctx, 'update', comment, updated);
        return updated;
      });
      return toTicketCommentDto(row);
    },

    /** Soft delete; the first response it may have stamped stays (it was sent). */
    async remove(ctx: RequestContext, ticketId: string, commentId: string): Promise<void> {
      assertCan(ctx.actor, 'tickets', 'write');
      await inTransaction(db, async (tx) => {
        const { comment } = await lockBoth(tx, ticketId, commentId);
        await written(tx, ctx, 'delete', comment, await repo.updateComment(tx, comment.id, { deletedAt: new Date() }));
      });
    },

    /** Live comments of each ticket (Ticket.comments), oldest first: one query. */
    async ofTickets(ctx: RequestContext, ticketIds: readonly string[]): Promise<Map<string, TicketCommentDto[]>> {
      assertCan(ctx.actor, 'tickets', 'read');
      const out = new Map<string, TicketCommentDto[]>();
      for (const r of await repo.commentsOfTickets(db, ticketIds, COMMENTS_PER_TICKET)) {
        out.set(r.ticketId, [...(out.get(r.ticketId) ?? []), toTicketCommentDto(r)]);
      }
      return out;
    },
  };
}

export type TicketCommentService = ReturnType<typeof createTicketCommentService>;
