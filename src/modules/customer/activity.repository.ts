import { type SQL, and, count, eq, getTableColumns, inArray, isNull, sql } from 'drizzle-orm';
import type { OwnedColumns } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { ACTIVITY_DIRECTIONS, ACTIVITY_TYPES, type ActivityInsert, type ActivityRow, activities as a } from './activity.table.js';
import { companies } from './company.table.js';
import { type ContactRow, contacts } from './contact.table.js';
import { searchCondition, searchRank, searchTextOf } from './search.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const activityCollection: CollectionSpec = {
  id: { expr: a.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-occurredAt',
  fields: {
    id: { expr: a.id, type: 'uuid', nullable: false, sortable: true },
    type: { expr: a.type, type: 'enum', nullable: false, values: ACTIVITY_TYPES },
    subject: { expr: a.subject, type: 'string', nullable: true },
    direction: { expr: a.direction, type: 'enum', nullable: true, values: ACTIVITY_DIRECTIONS },
    occurredAt: { expr: a.occurredAt, type: 'datetime', nullable: false, sortable: true },
    dueAt: { expr: a.dueAt, type: 'datetime', nullable: true, sortable: true },
    completedAt: { expr: a.completedAt, type: 'datetime', nullable: true },
    contactId: { expr: a.contactId, type: 'uuid', nullable: true },
    companyId: { expr: a.companyId, type: 'uuid', nullable: true },
    dealId: { expr: a.dealId, type: 'uuid', nullable: true },
    leadId: { expr: a.leadId, type: 'uuid', nullable: true },
    ticketId: { expr: a.ticketId, type: 'uuid', nullable: true },
    ownerId: { expr: a.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: a.teamId, type: 'uuid', nullable: true },
    createdAt: { expr: a.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: a.updatedAt, type: 'datetime', nullable: false },
    deletedAt: { expr: a.deletedAt, type: 'datetime', nullable: true },
  },
};

export const ownedColumns: OwnedColumns = { ownerId: a.ownerId, teamId: a.teamId };
export const contactOwnedColumns: OwnedColumns = { ownerId: contacts.ownerId, teamId: contacts.teamId };

export const activitySortable = Object.entries(activityCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const activityFilterable = Object.keys(activityCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(a.deletedAt));

/** Trigram-indexed match of `q` on the normalised subject and body (search.ts: Arabic and Latin folding). */
export const activitySearch = (q: string): SQL => searchCondition(a.searchText, q);

/** search_text as stored: the service writes it with every insert and whenever subject or body change. */
export const activitySearchText = (v: { subject?: string | null; body?: string | null }) => searchTextOf([v.subject, v.body]);

export type ListedActivity = ActivityRow & { relevance: string | null };

export async function findActivity(db: Executor, id: string, scope?: SQL): Promise<ActivityRow | undefined> {
  const rows = await db.select().from(a).where(and(eq(a.id, id), scope)).limit(1);
  return rows[0];
}

export async function lockActivity(tx: Executor, id: string): Promise<ActivityRow | undefined> {
  const rows = await tx.select().from(a).where(eq(a.id, id)).for('update');
  return rows[0];
}

export async function listActivities(
  db: Executor, list: CompiledList, o: { includeDeleted: boolean; scope?: SQL | undefined; q?: string | undefined },
): Promise<ListedActivity[]> {
  const rank = o.q ? searchRank(a.searchText, o.q) : sql<null>`NULL`;
  return db
    .select({ ...getTableColumns(a), relevance: sql<string | null>`${rank}` })
    .from(a)
    .where(and(list.where, live(o.includeDeleted), o.scope, o.q ? activitySearch(o.q) : undefined))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countActivities(
  db: Executor, where: SQL | undefined, o: { includeDeleted: boolean; scope?: SQL | undefined; q?: string | undefined },
): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(a)
    .where(and(where, live(o.includeDeleted), o.scope, o.q ? activitySearch(o.q) : undefined));
  return Number(rows[0]?.n ?? 0);
}

export async function insertActivity(tx: Executor, values: ActivityInsert): Promise<ActivityRow> {
  const rows = await tx.insert(a).values(values).returning();
  return rows[0] as ActivityRow;
}

export async function updateActivity(tx: Executor, id: string, values: Partial<ActivityInsert>): Promise<ActivityRow> {
  const rows = await tx
    .update(a)
    .set({ ...values, version: sql`${a.version} + 1`, updatedAt: sql`now()` })
    .where(eq(a.id, id))
    .returning();
  return rows[0] as ActivityRow;
}

/** Whether a live contact / company has this id (the FK alone would accept a deleted one). */
export async function liveContactExists(tx: Executor, id: string): Promise<boolean> {
  const rows = await tx.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.id, id), isNull(contacts.deletedAt)));
  return rows.length > 0;
}

export async function liveCompanyExists(tx: Executor, id: string): Promise<boolean> {
  const rows = await tx.select({ id: companies.id }).from(companies).where(and(eq(companies.id, id), isNull(companies.deletedAt)));
  return rows.length > 0;
}

/** Live contacts by id in one query (include=contact and the Activity.contact loader). */
export async function findContacts(db: Executor, ids: readonly string[], scope?: SQL): Promise<ContactRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(contacts).where(and(inArray(contacts.id, [...ids]), isNull(contacts.deletedAt), scope));
}

/** The live activities of a lead, locked (lead conversion moves them). */
export async function lockLeadActivities(tx: Executor, leadId: string): Promise<ActivityRow[]> {
  return tx.select().from(a).where(and(eq(a.leadId, leadId), isNull(a.deletedAt))).orderBy(a.id).for('update');
}
