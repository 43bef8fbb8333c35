import { type SQL, and, asc, count, desc, eq, getTableColumns, inArray, isNull, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { OwnedColumns } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { contactTable, searchCondition, searchTextOf } from '../customer/index.js';
import type { LeadRead } from './lead.schema.js';
import { LEAD_STATUSES, type LeadInsert, type LeadRow, leads as l } from './lead.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const leadCollection: CollectionSpec = {
  id: { expr: l.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: l.id, type: 'uuid', nullable: false, sortable: true },
    firstName: { expr: l.firstName, type: 'string', nullable: true, sortable: true },
    lastName: { expr: l.lastName, type: 'string', nullable: true, sortable: true },
    email: { expr: l.email, type: 'string', nullable: true, sortable: true },
    phone: { expr: l.phone, type: 'string', nullable: true },
    companyName: { expr: l.companyName, type: 'string', nullable: true, sortable: true },
    companyDomain: { expr: l.companyDomain, type: 'string', nullable: true },
    source: { expr: l.source, type: 'string', nullable: true, sortable: true },
    status: { expr: l.status, type: 'enum', values: LEAD_STATUSES, nullable: false, sortable: true },
    score: { expr: l.score, type: 'integer', nullable: false, sortable: true },
    ownerId: { expr: l.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: l.teamId, type: 'uuid', nullable: true },
    convertedAt: { expr: l.convertedAt, type: 'datetime', nullable: true, sortable: true },
    convertedContactId: { expr: l.convertedContactId, type: 'uuid', nullable: true },
    convertedCompanyId: { expr: l.convertedCompanyId, type: 'uuid', nullable: true },
    convertedDealId: { expr: l.convertedDealId, type: 'uuid', nullable: true },
    createdAt: { expr: l.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: l.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: l.deletedAt, type: 'datetime', nullable: true },
  },
};

export const ownedColumns: OwnedColumns = { ownerId: l.ownerId, teamId: l.teamId };
export const leadCustomColumn = l.custom;

export const leadSortable = Object.entries(leadCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const leadFilterable = Object.keys(leadCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(l.deletedAt));

export const leadSearch = (q: string): SQL => searchCondition(l.searchText, q);
export const leadSearchText = (v: Partial<Pick<LeadRow, 'firstName' | 'lastName' | 'email' | 'companyName'>>) =>
  searchTextOf([v.firstName, v.lastName, v.email, v.companyName]);

// The duplicate check against contacts: live contact emails are unique, so the join adds at most one row.
const mc = alias(contactTable, 'matching_contact');
const withMatch = { ...getTableColumns(l), matchingContactId: mc.id };
const matchJoin = and(eq(mc.email, l.email), isNull(mc.deletedAt));

export async function findLead(db: Executor, id: string, scope?: SQL): Promise<LeadRead | undefined> {
  const rows = await db.select(withMatch).from(l).leftJoin(mc, matchJoin).where(and(eq(l.id, id), scope)).limit(1);
  return rows[0];
}

export async function findLeads(db: Executor, ids: readonly string[], scope?: SQL): Promise<LeadRead[]> {
  if (ids.length === 0) return [];
  return db.select(withMatch).from(l).leftJoin(mc, matchJoin).where(and(inArray(l.id, [...ids]), isNull(l.deletedAt), scope));
}

export async function lockLead(tx: Executor, id: string): Promise<LeadRead | undefined> {
  const rows = await tx.select(withMatch).from(l).leftJoin(mc, matchJoin).where(eq(l.id, id)).for('update', { of: l });
  return rows[0];
}

/**
 * The live lead an upsert by email addresses, locked: unconverted before converted, then the newest.
 * Lead emails are not unique (the same person may come back), so callers serialise on the email first.
 */
export async function lockLeadByEmail(tx: Executor, email: string, scope?: SQL): Promise<LeadRead | undefined> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`lead-email:${email}`}))`);
  const rows = await tx
    .select(withMatch)
    .from(l)
    .leftJoin(mc, matchJoin)
    .where(and(eq(l.email, email), isNull(l.deletedAt), scope))
    .orderBy(asc(sql`${l.status} = 'converted'`), desc(l.createdAt), desc(l.id))
    .limit(1)
    .for('update', { of: l });
  return rows[0];
}

export type ListedLead = LeadRead & { relevance: string | null };

export async function listLeads(
  db: Executor,
  list: CompiledList,
  o: { includeDeleted: boolean; scope?: SQL | undefined; search?: SQL | undefined; rank?: SQL | undefined },
): Promise<ListedLead[]> {
  return db
    .select({ ...withMatch, relevance: sql<string | null>`${o.rank ?? sql`NULL`}` })
    .from(l)
    .leftJoin(mc, matchJoin)
    .where(and(list.where, live(o.includeDeleted), o.scope, o.search))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countLeads(
  db: Executor,
  where: SQL | undefined,
  o: { includeDeleted: boolean; scope?: SQL | undefined; search?: SQL | undefined },
): Promise<number> {
  const rows = await db.select({ n: count() }).from(l).where(and(where, live(o.includeDeleted), o.scope, o.search));
  return Number(rows[0]?.n ?? 0);
}

export async function insertLead(tx: Executor, values: LeadInsert): Promise<LeadRow> {
  const rows = await tx.insert(l).values({ ...values, searchText: leadSearchText(values) }).returning();
  return rows[0] as LeadRow;
}

export async function updateLead(tx: Executor, id: string, values: Partial<LeadInsert>): Promise<LeadRow> {
  const rows = await tx
    .update(l)
    .set({ ...values, version: sql`${l.version} + 1`, updatedAt: sql`now()` })
    .where(eq(l.id, id))
    .returning();
  return rows[0] as LeadRow;
}
