import { and, asc, eq, getTableColumns, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { COMMENT_AUTHOR_TYPES, COMMENT_VISIBILITIES, type TicketCommentRow, ticketComments as c } from './ticket.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export type TicketCommentInsert = typeof c.$inferInsert;

/** A ticket's comments read as a conversation: oldest first unless sort=-createdAt. */
export const commentCollection: CollectionSpec = {
  id: { expr: c.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'createdAt',
  fields: {
    id: { expr: c.id, type: 'uuid', nullable: false, sortable: true },
    visibility: { expr: c.visibility, type: 'enum', nullable: false, values: COMMENT_VISIBILITIES },
    authorType: { expr: c.authorType, type: 'enum', nullable: false, values: COMMENT_AUTHOR_TYPES },
    authorId: { expr: c.authorId, type: 'uuid', nullable: true },
    createdAt: { expr: c.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: c.updatedAt, type: 'datetime', nullable: false },
  },
};

export const commentSortable = Object.entries(commentCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const commentFilterable = Object.keys(commentCollection.fields);

export async function listComments(db: Executor, ticketId: string, list: CompiledList): Promise<TicketCommentRow[]> {
  return db.select().from(c).where(and(eq(c.ticketId, ticketId), isNull(c.deletedAt), list.where)).orderBy(...list.orderBy).limit(list.fetch);
}

export async function lockComment(tx: Executor, ticketId: string, id: string): Promise<TicketCommentRow | undefined> {
  return (await tx.select().from(c).where(and(eq(c.id, id), eq(c.ticketId, ticketId))).for('update'))[0];
}

export async function insertComment(tx: Executor, values: TicketCommentInsert): Promise<TicketCommentRow> {
  return (await tx.insert(c).values(values).returning())[0] as TicketCommentRow;
}

export async function updateComment(tx: Executor, id: string, values: Partial<TicketCommentInsert>): Promise<TicketCommentRow> {
  const rows = await tx.update(c).set({ ...values, version: sql`${c.version} + 1`, updatedAt: sql`now()` }).where(eq(c.id, id)).returning();
  return rows[0] as TicketCommentRow;
}

/** Live comments of several tickets, oldest first, at most `perTicket` each (Ticket.comments): one query. */
export async function commentsOfTickets(db: Executor, ticketIds: readonly string[], perTicket: number): Promise<TicketCommentRow[]> {
  if (ticketIds.length === 0) return [];
  const rn = sql<number>`row_number() over (partition by ${c.ticketId} order by ${c.createdAt}, ${c.id})`.as('rn');
  const ranked = db
    .select({ ...getTableColumns(c), rn })
    .from(c)
    .where(and(inArray(c.ticketId, [...ticketIds]), isNull(c.deletedAt)))
    .as('ranked');
  const rows = await db.select().from(ranked).where(lte(ranked.rn, perTicket)).orderBy(asc(ranked.createdAt), asc(ranked.id));
  return rows.map(({ rn: _rn, ...row }) => row as TicketCommentRow);
}
