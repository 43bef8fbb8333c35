import { type SQL, asc, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { can } from '../../platform/auth/permissions.js';
import { queryRows, sqlArray } from '../../platform/db/execute.js';
import { recordAudit } from '../../platform/audit/audit.js';
import type { ErasedRecords, Person, PersonalDataPart, TimelineItem, TimelineRow, TimelineSource, View360Part } from '../customer/index.js';
import { Ticket, toTicketDto } from './ticket.schema.js';
import { toTicketCommentDto } from './ticket-comment.schema.js';
import { ticketComments, tickets } from './ticket.table.js';
import type { TicketService } from './ticket.service.js';

// Where tickets meet the customer module: the contact timeline, the 360 view, contact merges and GDPR.

/** open tickets in the 360 view; the rest are one `GET /v1/tickets?filter[requesterId][eq]=…` away */
export const OPEN_TICKETS_360 = 50;

const iso = (col: unknown) => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Each ticket the contact requested, at its creation, with its current state; companies' timelines have none. */
export const ticketTimelineSource: TimelineSource = {
  kinds: ['ticket'],
  branch(ctx: RequestContext, subject, keyset, fetch): SQL | undefined {
    if (subject.entityType !== 'contact' || !can(ctx.actor, 'tickets', 'read')) return undefined;
    const t = tickets;
    return sql`
      SELECT 'ticket'::text, ${t.createdAt}, ${t.id}, 'ticket'::text, ${t.id},
             jsonb_build_object(
               'id', ${t.id}, 'subject', ${t.subject}, 'status', ${t.status}, 'priority', ${t.priority},
               'channel', ${t.channel}, 'requesterId', ${t.requesterId}, 'assigneeId', ${t.assigneeId}, 'teamId', ${t.teamId},
               'createdAt', ${iso(t.createdAt)}, 'solvedAt', ${iso(t.solvedAt)}, 'closedAt', ${iso(t.closedAt)},
               'slaBreached', ${t.slaBreached}, 'satisfactionScore', ${t.satisfactionScore}),
             NULL::jsonb, NULL::jsonb
        FROM ${t}
       WHERE ${t.requesterId} = ${subject.id}::uuid AND ${t.deletedAt} IS NULL ${keyset(t.createdAt, 'ticket', t.id)}
       ORDER BY ${t.createdAt} DESC, ${t.id} DESC
       LIMIT ${fetch}`;
  },
  toItem(r: TimelineRow): TimelineItem {
    const d = r.record ?? {};
    return {
      type: 'ticket', occurredAt: r.occurred_at, entityType: 'ticket', entityId: r.entity_id,
      summary: `Ticket "${String(d.subject ?? '')}" (${String(d.status ?? '')})`, data: d,
    };
  },
};

/** `openTickets` of the 360 view; absent for a role that may not read tickets (marketing). */
export function openTicketsPart(tickets: TicketService): View360Part {
  return {
    key: 'openTickets',
    schema: z.array(Ticket).optional().describe(
      `the contact's new, open and pending tickets, newest first, at most ${OPEN_TICKETS_360}; absent for roles that may not read tickets`,
    ),
    load: (ctx, contact) => (can(ctx.actor, 'tickets', 'read') ? tickets.openTicketsOf(ctx, contact.id, OPEN_TICKETS_360) : Promise.resolve(undefined)),
  };
}

const ids = (list: readonly string[]) => sqlArray(list, 'uuid');

/**
 * Merging contacts: the duplicates' tickets name the primary as requester, and their requester-authored
 * comments name it as author. Runs in the merge's transaction; each moved ticket gets a new version and
 * an audit row.
 */
export async function moveTicketRequesters(tx: Executor, ctx: RequestContext, primaryId: string, duplicateIds: readonly string[]): Promise<Record<string, number>> {
  const { rows } = await queryRows<{ id: string; old: string }>(tx, sql`
    UPDATE tickets AS t SET requester_id = ${primaryId}::uuid, version = t.version + 1, updated_at = now()
    FROM (SELECT id, requester_id AS old FROM tickets WHERE requester_id = ANY(${ids(duplicateIds)})) o
    WHERE t.id = o.id AND t.requester_id = ANY(${ids(duplicateIds)})
    RETURNING t.id, o.old`);
  await recordAudit(tx, ctx, rows.map((r) => ({
    action: 'update', entityType: 'ticket', entityId: r.id, before: { requesterId: r.old }, after: { requesterId: primaryId },
  })));
  const comments = await queryRows(tx, sql`
    UPDATE ticket_comments SET author_id = ${primaryId}::uuid, version = version + 1, updated_at = now()
    WHERE author_type = 'contact' AND author_id = ANY(${ids(duplicateIds)})`);
  return { tickets: rows.length, ticketComments: comments.affected };
}

async function ticketsOf(db: Executor, contactIds: readonly string[]) {
  if (contactIds.length === 0) return { rows: [], comments: [] };
  const rows = await db.select().from(tickets).where(inArray(tickets.requesterId, [...contactIds])).orderBy(asc(tickets.createdAt), asc(tickets.id));
  const comments = rows.length === 0 ? [] : await db.select().from(ticketComments)
    .where(inArray(ticketComments.ticketId, rows.map((r) => r.id)))
    .orderBy(asc(ticketComments.createdAt), asc(ticketComments.id));
  return { rows, comments };
}

/**
 * GDPR: the person's tickets with their comments (export); erasure blanks the subject, description and
 * rating comment of their tickets and the bodies of the comments they wrote. Agents' comments stay:
 * they are the company's records (the audit and event erasure removes mentions of the person).
 */
export const ticketGdprPart: PersonalDataPart = {
  key: 'tickets',
  async export(db: Executor, person: Person) {
    const { rows, comments } = await ticketsOf(db, person.contactIds);
    return rows.map((r) => ({
      ...toTicketDto(r),
      comments: comments.filter((c) => c.ticketId === r.id).map(toTicketCommentDto),
    }));
  },
  async erase(tx: Executor, person: Person): Promise<ErasedRecords[]> {
    if (person.contactIds.length === 0) return [];
    const erased = await queryRows<{ id: string }>(tx, sql`
      UPDATE tickets SET subject = '[erased]', description = NULL, satisfaction_comment = NULL, search_text = '',
             version = version + 1, updated_at = now()
      WHERE requester_id = ANY(${ids(person.contactIds)}) RETURNING id`);
    const comments = await queryRows<{ id: string }>(tx, sql`
      UPDATE ticket_comments SET body = '[erased]', version = version + 1, updated_at = now()
      WHERE author_type = 'contact' AND author_id = ANY(${ids(person.contactIds)}) RETURNING id`);
    return [
      { entityType: 'ticket', ids: erased.rows.map((r) => r.id), personalKeys: ['subject', 'description', 'satisfactionComment'] },
      { entityType: 'ticket_comment', ids: comments.rows.map((r) => r.id), personalKeys: ['body'] },
    ];
  },
};
