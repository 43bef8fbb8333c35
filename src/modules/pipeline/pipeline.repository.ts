import { type SQL, and, asc, count, eq, getTableColumns, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { type PipelineInsert, type PipelineRow, type StageInsert, type StageRow, pipelineStages, pipelines } from './pipeline.table.js';
import { deals } from './deal.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.
// Other parts of the module (lead conversion, deals) may use the exported lookups below.

export const pipelineCollection: CollectionSpec = {
  id: { expr: pipelines.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: pipelines.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: pipelines.name, type: 'string', nullable: false, sortable: true },
    isDefault: { expr: pipelines.isDefault, type: 'boolean', nullable: false, sortable: true },
    createdAt: { expr: pipelines.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: pipelines.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: pipelines.deletedAt, type: 'datetime', nullable: true },
  },
};

export const pipelineSortable = Object.entries(pipelineCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const pipelineFilterable = Object.keys(pipelineCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(pipelines.deletedAt));

export async function findPipeline(db: Executor, id: string): Promise<PipelineRow | undefined> {
  const rows = await db.select().from(pipelines).where(eq(pipelines.id, id)).limit(1);
  return rows[0];
}

export async function lockPipeline(tx: Executor, id: string): Promise<PipelineRow | undefined> {
  const rows = await tx.select().from(pipelines).where(eq(pipelines.id, id)).for('update');
  return rows[0];
}

export async function listPipelines(db: Executor, list: CompiledList, o: { includeDeleted: boolean }): Promise<PipelineRow[]> {
  return db
    .select(getTableColumns(pipelines))
    .from(pipelines)
    .where(and(list.where, live(o.includeDeleted)))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countPipelines(db: Executor, where: SQL | undefined, o: { includeDeleted: boolean }): Promise<number> {
  const rows = await db.select({ n: count() }).from(pipelines).where(and(where, live(o.includeDeleted)));
  return Number(rows[0]?.n ?? 0);
}

/** Live stages of these pipelines, ordered by position: one query for a whole page. */
export async function stagesOfPipelines(db: Executor, pipelineIds: readonly string[]): Promise<Map<string, StageRow[]>> {
  const out = new Map<string, StageRow[]>(pipelineIds.map((id) => [id, []]));
  if (pipelineIds.length === 0) return out;
  const rows = await db
    .select()
    .from(pipelineStages)
    .where(and(inArray(pipelineStages.pipelineId, [...pipelineIds]), isNull(pipelineStages.deletedAt)))
    .orderBy(asc(pipelineStages.pipelineId), asc(pipelineStages.position), asc(pipelineStages.id));
  for (const r of rows) out.get(r.pipelineId)?.push(r);
  return out;
}

/** The live stages of one pipeline, ordered by position. */
export async function stagesOf(db: Executor, pipelineId: string): Promise<StageRow[]> {
  return (await stagesOfPipelines(db, [pipelineId])).get(pipelineId) ?? [];
}

/** Locks the live stages so a deal cannot be moved into one while the list is being rewritten. */
export async function lockStages(tx: Executor, pipelineId: string): Promise<StageRow[]> {
  return tx
    .select()
    .from(pipelineStages)
    .where(and(eq(pipelineStages.pipelineId, pipelineId), isNull(pipelineStages.deletedAt)))
    .orderBy(asc(pipelineStages.position), asc(pipelineStages.id))
    .for('update');
}

/** One live stage (any pipeline), for callers that hold only a stage id. */
export async function findStage(db: Executor, stageId: string): Promise<StageRow | undefined> {
  const rows = await db
    .select()
    .from(pipelineStages)
    .where(and(eq(pipelineStages.id, stageId), isNull(pipelineStages.deletedAt)))
    .limit(1);
  return rows[0];
}

/**
 * The live default pipeline with its live stages and its first open stage (lowest position), which
 * lead conversion uses when the caller names none. Undefined when no pipeline is the default.
 */
export async function defaultPipeline(
  db: Executor,
): Promise<{ pipeline: PipelineRow; stages: StageRow[]; firstOpenStage: StageRow | undefined } | undefined> {
  const rows = await db
    .select()
    .from(pipelines)
    .where(and(eq(pipelines.isDefault, true), isNull(pipelines.deletedAt)))
    .limit(1);
  const pipeline = rows[0];
  if (!pipeline) return undefined;
  const stages = await stagesOf(db, pipeline.id);
  return { pipeline, stages, firstOpenStage: stages.find((s) => s.kind === 'open') };
}

export async function insertPipeline(tx: Executor, values: PipelineInsert): Promise<PipelineRow> {
  const rows = await tx.insert(pipelines).values(values).returning();
  return rows[0] as PipelineRow;
}

export async function updatePipeline(tx: Executor, id: string, values: Partial<PipelineInsert>): Promise<PipelineRow> {
  const rows = await tx
    .update(pipelines)
    .set({ ...values, version: sql`${pipelines.version} + 1`, updatedAt: sql`now()` })
    .where(eq(pipelines.id, id))
    .returning();
  return rows[0] as PipelineRow;
}

/**
 * Serialises default switches: two transactions each making their pipeline the default would
 * otherwise both clear the old one and collide on pipelines_default_live_key.
 */
const DEFAULT_SWITCH_LOCK = 7_305_114_001;
export async function lockDefaultSwitch(tx: Executor): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${DEFAULT_SWITCH_LOCK})`);
}

/** The live default other than `exceptId`, locked, if any. */
export async function lockOtherDefault(tx: Executor, exceptId: string): Promise<PipelineRow | undefined> {
  const rows = await tx
    .select()
    .from(pipelines)
    .where(and(eq(pipelines.isDefault, true), isNull(pipelines.deletedAt), ne(pipelines.id, exceptId)))
    .for('update');
  return rows[0];
}

export async function insertStages(tx: Executor, values: StageInsert[]): Promise<void> {
  if (values.length) await tx.insert(pipelineStages).values(values);
}

export async function updateStage(tx: Executor, id: string, values: Partial<StageInsert>): Promise<void> {
  await tx.update(pipelineStages).set(values).where(eq(pipelineStages.id, id));
}

export async function softDeleteStages(tx: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length) await tx.update(pipelineStages).set({ deletedAt: sql`now()` }).where(inArray(pipelineStages.id, [...ids]));
}

/** Live deals per stage, for the given stages; stages without deals are absent. */
export async function liveDealsPerStage(db: Executor, stageIds: readonly string[]): Promise<Map<string, number>> {
  if (stageIds.length === 0) return new Map();
  const rows = await db
    .select({ stageId: deals.stageId, n: count() })
    .from(deals)
    .where(and(inArray(deals.stageId, [...stageIds]), isNull(deals.deletedAt)))
    .groupBy(deals.stageId);
  return new Map(rows.map((r) => [r.stageId, Number(r.n)]));
}

export async function liveDealsInPipeline(db: Executor, pipelineId: string): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(deals)
    .where(and(eq(deals.pipelineId, pipelineId), isNull(deals.deletedAt)));
  return Number(rows[0]?.n ?? 0);
}
