import { type SQL, and, asc, count, eq, getTableColumns, inArray, isNull, sql } from 'drizzle-orm';
import type { OwnedColumns } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { companyTable, contactTable, searchCondition, searchTextOf } from '../customer/index.js';
import { DEAL_STATUSES, type DealInsert, type DealRow, dealContacts, deals } from './deal.table.js';
import type { DealRecord } from './deal.schema.js';
import { pipelines } from './pipeline.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const dealCollection: CollectionSpec = {
  id: { expr: deals.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: deals.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: deals.name, type: 'string', nullable: false, sortable: true },
    status: { expr: deals.status, type: 'enum', nullable: false, sortable: true, values: DEAL_STATUSES },
    pipelineId: { expr: deals.pipelineId, type: 'uuid', nullable: false },
    stageId: { expr: deals.stageId, type: 'uuid', nullable: false },
    companyId: { expr: deals.companyId, type: 'uuid', nullable: true },
    ownerId: { expr: deals.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: deals.teamId, type: 'uuid', nullable: true },
    amount: { expr: deals.amount, type: 'decimal', nullable: true, sortable: true },
    currency: { expr: deals.currency, type: 'string', nullable: true, sortable: true },
    expectedCloseDate: { expr: deals.expectedCloseDate, type: 'date', nullable: true, sortable: true },
    closedAt: { expr: deals.closedAt, type: 'datetime', nullable: true, sortable: true },
    position: { expr: deals.position, type: 'integer', nullable: false, sortable: true },
    createdAt: { expr: deals.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: deals.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: deals.deletedAt, type: 'datetime', nullable: true },
  },
};

export const ownedColumns: OwnedColumns = { ownerId: deals.ownerId, teamId: deals.teamId };
export const dealCustomColumn = deals.custom;
export const dealSearchColumn = deals.searchText;
export const dealSortable = Object.entries(dealCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const dealFilterable = Object.keys(dealCollection.fields);

/** The deal's contact ids in their order, as a column of the same query (JSON: both drivers parse it). */
export const contactIdsColumn = sql<string[]>`(SELECT coalesce(json_agg(dc.contact_id ORDER BY dc.position), '[]'::json) FROM deal_contacts dc WHERE dc.deal_id = ${deals.id})`;
export const dealColumns = { ...getTableColumns(deals), contactIds: contactIdsColumn };

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(deals.deletedAt));

export const dealSearch = (q: string): SQL => searchCondition(deals.searchText, q);
export const dealSearchText = (v: { name?: string | null }) => searchTextOf([v.name]);

export async function findDeal(db: Executor, id: string, scope?: SQL): Promise<DealRecord | undefined> {
  const rows = await db.select(dealColumns).from(deals).where(and(eq(deals.id, id), scope)).limit(1);
  return rows[0];
}

export async function findDeals(db: Executor, ids: readonly string[], scope?: SQL): Promise<DealRecord[]> {
  if (ids.length === 0) return [];
  return db.select(dealColumns).from(deals).where(and(inArray(deals.id, [...ids]), isNull(deals.deletedAt), scope));
}

/** The row locked for a write, with its contact ids (read apart: FOR UPDATE and an aggregate do not mix). */
export async function lockDeal(tx: Executor, id: string): Promise<DealRecord | undefined> {
  const rows = await tx.select().from(deals).where(eq(deals.id, id)).for('update');
  const row = rows[0];
  return row ? { ...row, contactIds: await contactIdsOf(tx, id) } : undefined;
}

export async function contactIdsOf(tx: Executor, dealId: string): Promise<string[]> {
  const rows = await tx.select({ id: dealContacts.contactId }).from(dealContacts)
    .where(eq(dealContacts.dealId, dealId)).orderBy(asc(dealContacts.position));
  return rows.map((r) => r.id);
}

export async function listDeals(
  db: Executor,
  list: CompiledList,
  o: { includeDeleted: boolean; scope?: SQL | undefined; search?: SQL | undefined; rank?: SQL | undefined },
): Promise<DealRecord[]> {
  return db
    .select({ ...dealColumns, relevance: o.rank ?? sql`NULL` })
    .from(deals)
    .where(and(list.where, live(o.includeDeleted), o.scope, o.search))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countDeals(
  db: Executor,
  where: SQL | undefined,
  o: { includeDeleted: boolean; scope?: SQL | undefined; search?: SQL | undefined },
): Promise<number> {
  const rows = await db.select({ n: count() }).from(deals).where(and(where, live(o.includeDeleted), o.scope, o.search));
  return Number(rows[0]?.n ?? 0);
}

export async function insertDeal(tx: Executor, values: DealInsert): Promise<DealRow> {
  const rows = await tx.insert(deals).values({ ...values, searchText: dealSearchText(values) }).returning();
  return rows[0] as DealRow;
}

export async function updateDeal(tx: Executor, id: string, values: Partial<DealInsert>): Promise<DealRow> {
  const rows = await tx
    .update(deals)
    .set({ ...values, version: sql`${deals.version} + 1`, updatedAt: sql`now()` })
    .where(eq(deals.id, id))
    .returning();
  return rows[0] as DealRow;
}

/** Replaces the deal's contacts with `ids`, in that order. */
export async function replaceContacts(tx: Executor, dealId: string, ids: readonly string[]): Promise<void> {
  await tx.delete(dealContacts).where(eq(dealContacts.dealId, dealId));
  if (ids.length) await tx.insert(dealContacts).values(ids.map((contactId, position) => ({ dealId, contactId, position })));
}

export async function livePipelineExists(db: Executor, id: string): Promise<boolean> {
  const rows = await db.select({ id: pipelines.id }).from(pipelines).where(and(eq(pipelines.id, id), isNull(pipelines.deletedAt)));
  return rows.length > 0;
}

export async function liveCompanyExists(db: Executor, id: string): Promise<boolean> {
  const rows = await db.select({ id: companyTable.id }).from(companyTable).where(and(eq(companyTable.id, id), isNull(companyTable.deletedAt)));
  return rows.length > 0;
}

/** Which of these ids are live contacts. */
export async function liveContactIds(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.select({ id: contactTable.id }).from(contactTable)
    .where(and(inArray(contactTable.id, [...ids]), isNull(contactTable.deletedAt)));
  return new Set(rows.map((r) => r.id));
}
