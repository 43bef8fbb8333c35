import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { companyTable, contactTable } from '../customer/index.js';
import { IMPORT_ENTITIES, IMPORT_STATUSES, type ImportRow, importErrors, importRows, imports } from './import.table.js';
import type { ParsedRow } from './import.parse.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

type ImportInsert = typeof imports.$inferInsert;

export const importCollection: CollectionSpec = {
  id: { expr: imports.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: imports.id, type: 'uuid', nullable: false, sortable: true },
    entity: { expr: imports.entity, type: 'enum', values: IMPORT_ENTITIES, nullable: false },
    status: { expr: imports.status, type: 'enum', values: IMPORT_STATUSES, nullable: false },
    createdAt: { expr: imports.createdAt, type: 'datetime', nullable: false, sortable: true },
  },
};
export const importSortable = Object.entries(importCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const importFilterable = Object.keys(importCollection.fields);

export async function insertJob(tx: Executor, values: ImportInsert): Promise<ImportRow> {
  const [row] = await tx.insert(imports).values(values).returning();
  return row as ImportRow;
}

/**
 * One INSERT per call (the caller sends about a thousand rows), the rows as one JSON parameter: far
 * less garbage per row than a statement with three parameters a row, which keeps an upload's memory flat.
 */
export async function insertRows(tx: Executor, importId: string, rows: ParsedRow[]): Promise<void> {
  if (!rows.length) return;
  await tx.execute(sql`
    INSERT INTO import_rows (import_id, row_no, data)
    SELECT ${importId}::uuid, (r->>0)::int, r->1 FROM jsonb_array_elements(${JSON.stringify(rows.map((r) => [r.rowNo, r.data]))}::jsonb) AS r`);
}

export async function setTotal(tx: Executor, id: string, totalRows: number): Promise<ImportRow> {
  const [row] = await tx.update(imports).set({ totalRows, updatedAt: sql`now()` }).where(eq(imports.id, id)).returning();
  return row as ImportRow;
}

export async function findJob(db: Executor, id: string): Promise<ImportRow | undefined> {
  const rows = await db.select().from(imports).where(eq(imports.id, id)).limit(1);
  return rows[0];
}

/** `actorId`: only the jobs that actor started (roles that see only their own). */
export async function listJobs(db: Executor, list: CompiledList, actorId: string | undefined): Promise<ImportRow[]> {
  const mine = actorId ? sql`${imports.actor}->>'id' = ${actorId}` : undefined;
  return db.select().from(imports).where(and(list.where, mine)).orderBy(...list.orderBy).limit(list.fetch);
}

export async function jobErrors(db: Executor, id: string, limit: number): Promise<{ rowNo: number; message: string }[]> {
  return db
    .select({ rowNo: importErrors.rowNo, message: importErrors.message })
    .from(importErrors)
    .where(eq(importErrors.importId, id))
    .orderBy(asc(importErrors.rowNo))
    .limit(limit);
}

/**
 * Claims the oldest runnable job whose lease is free or run out, leasing it until `leaseUntil`.
 * SKIP LOCKED: two workers claiming at once take different jobs; the lease keeps them apart after.
 */
export async function claimJob(tx: Executor, now: Date, leaseUntil: Date): Promise<ImportRow | undefined> {
  const [due] = await tx
    .select({ id: imports.id })
    .from(imports)
    .where(and(inArray(imports.status, ['queued', 'running']), or(isNull(imports.leaseUntil), lte(imports.leaseUntil, now))))
    .orderBy(asc(imports.createdAt), asc(imports.id))
    .limit(1)
    .for('update', { skipLocked: true });
  if (!due) return undefined;
  const [row] = await tx
    .update(imports)
    .set({ status: 'running', leaseUntil, startedAt: sql`coalesce(${imports.startedAt}, now())`, updatedAt: sql`now()` })
    .where(eq(imports.id, due.id))
    .returning();
  return row;
}

/** The claim is still ours when neither the lease nor the resume point moved since we set them. */
const stillOurs = (id: string, lease: Date, processed: number): SQL =>
  and(eq(imports.id, id), eq(imports.leaseUntil, lease), eq(imports.processed, processed), eq(imports.status, 'running')) as SQL;

/** Extends our claim; false when it is no longer ours (another worker took over a lease that ran out). */
export async function renewLease(db: Executor, id: string, lease: Date, processed: number, next: Date): Promise<boolean> {
  const r = await db.update(imports).set({ leaseUntil: next }).where(stillOurs(id, lease, processed)).returning({ id: imports.id });
  return r.length > 0;
}

/** The next rows to apply, in row order. */
export async function nextRows(db: Executor, id: string, after: number, limit: number): Promise<{ rowNo: number; data: Record<string, unknown> }[]> {
  return db
    .select({ rowNo: importRows.rowNo, data: importRows.data })
    .from(importRows)
    .where(and(eq(importRows.importId, id), gt(importRows.rowNo, after)))
    .orderBy(asc(importRows.rowNo))
    .limit(limit);
}

export interface ChunkOutcome {
  lastRow: number;
  rows: number;
  created: number;
  updated: number;
  errors: { rowNo: number; message: string }[];
  done: boolean;
}

/**
 * A chunk's bookkeeping: its errors, its rows gone, the counters and the resume point moved, the lease
 * renewed (or dropped when done). false when the claim was lost: nothing is recorded, the new holder redoes it.
 */
export async function finishChunk(tx: Executor, id: string, lease: Date, processed: number, next: Date, o: ChunkOutcome): Promise<boolean> {
  const [row] = await tx
    .update(imports)
    .set({
      processed: o.lastRow,
      created: sql`${imports.created} + ${o.created}`,
      updated: sql`${imports.updated} + ${o.updated}`,
      failed: sql`${imports.failed} + ${o.errors.length}`,
      updatedAt: sql`now()`,
      ...(o.done ? { status: 'completed' as const, leaseUntil: null, finishedAt: sql`now()` } : { leaseUntil: next }),
    })
    .where(stillOurs(id, lease, processed))
    .returning({ id: imports.id });
  if (!row) return false;
  if (o.errors.length) {
    await tx.insert(importErrors).values(o.errors.map((e) => ({ importId: id, rowNo: e.rowNo, message: e.message }))).onConflictDoNothing();
  }
  await tx.delete(importRows).where(and(eq(importRows.importId, id), lte(importRows.rowNo, o.lastRow)));
  return true;
}

/** The whole job failed: its remaining rows go, the reason stays. */
export async function failJob(tx: Executor, id: string, lease: Date, processed: number, failure: string): Promise<boolean> {
  const r = await tx
    .update(imports)
    .set({ status: 'failed', failure, leaseUntil: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(stillOurs(id, lease, processed))
    .returning({ id: imports.id });
  if (r.length) await tx.delete(importRows).where(eq(importRows.importId, id));
  return r.length > 0;
}

/** Gives the job back before its lease runs out, so the next pass (of any worker) goes on at once. */
export async function releaseLease(db: Executor, id: string, lease: Date, processed: number): Promise<void> {
  await db.update(imports).set({ leaseUntil: null }).where(stillOurs(id, lease, processed));
}

/** Live contacts by (lower-cased) email: one query for a chunk's natural keys. */
export async function contactIdsByEmail(db: Executor, emails: string[], scope: SQL | undefined): Promise<Map<string, string>> {
  if (!emails.length) return new Map();
  const rows = await db
    .select({ id: contactTable.id, email: contactTable.email })
    .from(contactTable)
    .where(and(inArray(contactTable.email, emails), isNull(contactTable.deletedAt), scope));
  return new Map(rows.map((r) => [r.email as string, r.id]));
}

/** Live companies by (lower-cased) domain: one query for a chunk's natural keys. */
export async function companyIdsByDomain(db: Executor, domains: string[], scope: SQL | undefined): Promise<Map<string, string>> {
  if (!domains.length) return new Map();
  const rows = await db
    .select({ id: companyTable.id, domain: companyTable.domain })
    .from(companyTable)
    .where(and(inArray(companyTable.domain, domains), isNull(companyTable.deletedAt), scope));
  return new Map(rows.map((r) => [r.domain as string, r.id]));
}
