import { type SQL, and, asc, desc, eq, getTableColumns, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { contactTable } from '../customer/index.js';
import type { DealRecord } from './deal.schema.js';
import { dealContacts, deals } from './deal.table.js';
import { contactIdsColumn } from './deal.repository.js';
import { type PipelineRow, type StageRow, pipelineStages, pipelines } from './pipeline.table.js';

// The reads behind relations (include=, GraphQL loaders, other parts of the module): each is one
// query whatever the number of parents, so a page of deals never turns into a query per deal.

type ContactRow = typeof contactTable.$inferSelect;

/** Live contacts of each deal, in the deal's order. `scope` limits the contacts (customers read). */
export async function contactsOfDeals(db: Executor, dealIds: readonly string[], scope?: SQL): Promise<Map<string, ContactRow[]>> {
  const out = new Map<string, ContactRow[]>();
  if (dealIds.length === 0) return out;
  const rows = await db
    .select({ dealId: dealContacts.dealId, contact: contactTable })
    .from(dealContacts)
    .innerJoin(contactTable, eq(contactTable.id, dealContacts.contactId))
    .where(and(inArray(dealContacts.dealId, [...dealIds]), isNull(contactTable.deletedAt), scope))
    .orderBy(asc(dealContacts.dealId), asc(dealContacts.position));
  for (const r of rows) out.set(r.dealId, [...(out.get(r.dealId) ?? []), r.contact]);
  return out;
}

/**
 * Live deals of each parent (a contact through deal_contacts, or a company), newest first, at most
 * `perParent` each: one query with a window, so a parent with thousands of deals stays cheap.
 */
export async function dealsOfParents(
  db: Executor, by: 'contact' | 'company', parentIds: readonly string[], perParent: number, scope?: SQL, onlyOpen = false,
): Promise<{ parentId: string; deal: DealRecord }[]> {
  if (parentIds.length === 0) return [];
  const parent = by === 'contact' ? dealContacts.contactId : deals.companyId;
  const rn = sql<number>`row_number() over (partition by ${parent} order by ${deals.createdAt} desc, ${deals.id} desc)`.as('rn');
  // fields of a subquery need aliases: the contact ids column gets one
  const contactIds = sql<string[]>`${contactIdsColumn}`.as('contact_ids');
  const base = db.select({ ...getTableColumns(deals), contactIds, parentId: sql<string>`${parent}`.as('parent_id'), rn }).from(deals);
  const joined = by === 'contact' ? base.innerJoin(dealContacts, eq(dealContacts.dealId, deals.id)) : base;
  const ranked = joined
    .where(and(inArray(parent, [...parentIds]), isNull(deals.deletedAt), onlyOpen ? eq(deals.status, 'open') : undefined, scope))
    .as('ranked');
  const rows = await db.select().from(ranked).where(lte(ranked.rn, perParent)).orderBy(desc(ranked.createdAt), desc(ranked.id));
  return rows.map(({ rn: _rn, parentId, ...deal }) => ({ parentId, deal: deal as unknown as DealRecord }));
}

/** Pipelines by id with their live stages in order (Deal.pipeline); deleted pipelines too, a deal may sit in one. */
export async function pipelinesWithStages(db: Executor, ids: readonly string[]): Promise<{ pipeline: PipelineRow; stages: StageRow[] }[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ pipeline: pipelines, stage: pipelineStages })
    .from(pipelines)
    .leftJoin(pipelineStages, and(eq(pipelineStages.pipelineId, pipelines.id), isNull(pipelineStages.deletedAt)))
    .where(inArray(pipelines.id, [...ids]))
    .orderBy(asc(pipelines.id), asc(pipelineStages.position), asc(pipelineStages.id));
  const out = new Map<string, { pipeline: PipelineRow; stages: StageRow[] }>();
  for (const r of rows) {
    const entry = out.get(r.pipeline.id) ?? { pipeline: r.pipeline, stages: [] };
    if (r.stage) entry.stages.push(r.stage);
    out.set(r.pipeline.id, entry);
  }
  return [...out.values()];
}

export async function stagesByIds(db: Executor, ids: readonly string[]): Promise<StageRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(pipelineStages).where(inArray(pipelineStages.id, [...ids]));
}
