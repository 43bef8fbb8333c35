import { type SQL, and, count, desc, eq, getTableColumns, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList, FieldSpec } from '../../platform/http/collection.js';
import { contactTable, searchCondition, searchTextOf } from '../customer/index.js';
import { TICKET_PRIORITIES, type SlaPolicyRow, slaPolicies } from './sla-policy.table.js';
import { TICKET_CHANNELS, TICKET_STATUSES, type TicketRow, ticketRoundRobin, tickets as t } from './ticket.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export type TicketInsert = typeof t.$inferInsert;

const dt = (expr: FieldSpec['expr'], nullable = true) => ({ expr, type: 'datetime' as const, nullable, sortable: true });

export const ticketCollection: CollectionSpec = {
  id: { expr: t.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: t.id, type: 'uuid', nullable: false, sortable: true },
    subject: { expr: t.subject, type: 'string', nullable: false, sortable: true },
    status: { expr: t.status, type: 'enum', nullable: false, values: TICKET_STATUSES, sortable: true },
    priority: { expr: t.priority, type: 'enum', nullable: false, values: TICKET_PRIORITIES, sortable: true },
    channel: { expr: t.channel, type: 'enum', nullable: false, values: TICKET_CHANNELS, sortable: true },
    requesterId: { expr: t.requesterId, type: 'uuid', nullable: false },
    assigneeId: { expr: t.assigneeId, type: 'uuid', nullable: true },
    teamId: { expr: t.teamId, type: 'uuid', nullable: true },
    slaPolicyId: { expr: t.slaPolicyId, type: 'uuid', nullable: true },
    slaBreached: { expr: t.slaBreached, type: 'boolean', nullable: false },
    satisfactionScore: { expr: t.satisfactionScore, type: 'integer', nullable: true, sortable: true },
    tags: { expr: t.tags, type: 'tags', nullable: false },
    firstResponseDueAt: dt(t.firstResponseDueAt),
    resolutionDueAt: dt(t.resolutionDueAt),
    firstRespondedAt: dt(t.firstRespondedAt),
    solvedAt: dt(t.solvedAt),
    closedAt: dt(t.closedAt),
    createdAt: dt(t.createdAt, false),
    updatedAt: dt(t.updatedAt, false),
    deletedAt: { expr: t.deletedAt, type: 'datetime', nullable: true },
  },
};

export const ticketCustomColumn = t.custom;
export const ticketSearchColumn = t.searchText;
export const ticketSortable = Object.entries(ticketCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const ticketFilterable = Object.keys(ticketCollection.fields);

export const ticketSearch = (q: string): SQL => searchCondition(t.searchText, q);
export const ticketSearchText = (v: { subject?: string | null; description?: string | null }) => searchTextOf([v.subject, v.description]);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(t.deletedAt));

export async function findTicket(db: Executor, id: string): Promise<TicketRow | undefined> {
  return (await db.select().from(t).where(eq(t.id, id)).limit(1))[0];
}

export async function findTickets(db: Executor, ids: readonly string[]): Promise<TicketRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(t).where(and(inArray(t.id, [...ids]), isNull(t.deletedAt)));
}

export async function lockTicket(tx: Executor, id: string): Promise<TicketRow | undefined> {
  return (await tx.select().from(t).where(eq(t.id, id)).for('update'))[0];
}

export async function listTickets(
  db: Executor, list: CompiledList, o: { includeDeleted: boolean; search?: SQL | undefined; rank?: SQL | undefined },
): Promise<TicketRow[]> {
  return db
    .select({ ...getTableColumns(t), relevance: o.rank ?? sql`NULL` })
    .from(t)
    .where(and(list.where, live(o.includeDeleted), o.search))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countTickets(db: Executor, where: SQL | undefined, o: { includeDeleted: boolean; search?: SQL | undefined }): Promise<number> {
  const rows = await db.select({ n: count() }).from(t).where(and(where, live(o.includeDeleted), o.search));
  return Number(rows[0]?.n ?? 0);
}

export async function insertTicket(tx: Executor, values: TicketInsert): Promise<TicketRow> {
  const rows = await tx.insert(t).values({ ...values, searchText: ticketSearchText(values) }).returning();
  return rows[0] as TicketRow;
}

export async function updateTicket(tx: Executor, id: string, values: Partial<TicketInsert>): Promise<TicketRow> {
  const rows = await tx
    .update(t)
    .set({ ...values, version: sql`${t.version} + 1`, updatedAt: sql`now()` })
    .where(eq(t.id, id))
    .returning();
  return rows[0] as TicketRow;
}

/** The policy a ticket runs under, also when it was deleted since: the ticket keeps the rules it opened with. */
export async function findPolicy(db: Executor, id: string | null): Promise<SlaPolicyRow | null> {
  if (!id) return null;
  return (await db.select().from(slaPolicies).where(eq(slaPolicies.id, id)).limit(1))[0] ?? null;
}

export async function liveContactExists(db: Executor, id: string): Promise<boolean> {
  const rows = await db.select({ id: contactTable.id }).from(contactTable).where(and(eq(contactTable.id, id), isNull(contactTable.deletedAt)));
  return rows.length > 0;
}

/**
 * Locks the team's round-robin row (made on first use), so concurrent auto-assignments within the
 * team take turns; answers who got the team's previous ticket.
 */
export async function lockRoundRobin(tx: Executor, teamId: string): Promise<string | null> {
  await tx.insert(ticketRoundRobin).values({ teamId }).onConflictDoNothing();
  const rows = await tx.select().from(ticketRoundRobin).where(eq(ticketRoundRobin.teamId, teamId)).for('update');
  return rows[0]?.lastAssigneeId ?? null;
}

export async function saveRoundRobin(tx: Executor, teamId: string, assigneeId: string): Promise<void> {
  await tx.update(ticketRoundRobin).set({ lastAssigneeId: assigneeId, updatedAt: sql`now()` }).where(eq(ticketRoundRobin.teamId, teamId));
}

/** Live tickets of several requesters, newest first, at most `perRequester` each (optionally open only): one query. */
export async function ticketsOfRequesters(db: Executor, ids: readonly string[], perRequester: number, onlyOpen = false): Promise<TicketRow[]> {
  if (ids.length === 0) return [];
  const rn = sql<number>`row_number() over (partition by ${t.requesterId} order by ${t.createdAt} desc, ${t.id} desc)`.as('rn');
  const open = onlyOpen ? inArray(t.status, ['new', 'open', 'pending']) : undefined;
  const ranked = db
    .select({ ...getTableColumns(t), rn })
    .from(t)
    .where(and(inArray(t.requesterId, [...ids]), isNull(t.deletedAt), open))
    .as('ranked');
  const rows = await db.select().from(ranked).where(lte(ranked.rn, perRequester)).orderBy(desc(ranked.createdAt), desc(ranked.id));
  return rows.map(({ rn: _rn, ...row }) => row as TicketRow);
}
