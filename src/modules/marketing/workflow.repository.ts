import { type SQL, and, asc, count, desc, eq, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { contacts } from '../customer/contact.table.js';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import {
  type WorkflowInsert, type WorkflowRow, type WorkflowRunRow, workflowRoundRobin, workflowRuns as r, workflows as w,
} from './workflow.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const workflowCollection: CollectionSpec = {
  id: { expr: w.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'createdAt',
  fields: {
    id: { expr: w.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: w.name, type: 'string', nullable: false, sortable: true },
    enabled: { expr: w.enabled, type: 'boolean', nullable: false },
    createdAt: { expr: w.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: w.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: w.deletedAt, type: 'datetime', nullable: true },
  },
};
export const workflowSortable = Object.entries(workflowCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const workflowFilterable = Object.keys(workflowCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(w.deletedAt));

export async function findWorkflow(db: Executor, id: string): Promise<WorkflowRow | undefined> {
  return (await db.select().from(w).where(eq(w.id, id)).limit(1))[0];
}

export async function lockWorkflow(tx: Executor, id: string): Promise<WorkflowRow | undefined> {
  return (await tx.select().from(w).where(eq(w.id, id)).for('update'))[0];
}

export async function listWorkflows(db: Executor, list: CompiledList, o: { includeDeleted: boolean }): Promise<WorkflowRow[]> {
  return db.select().from(w).where(and(list.where, live(o.includeDeleted))).orderBy(...list.orderBy).limit(list.fetch);
}

export async function countWorkflows(db: Executor, where: SQL | undefined, o: { includeDeleted: boolean }): Promise<number> {
  return Number((await db.select({ n: count() }).from(w).where(and(where, live(o.includeDeleted))))[0]?.n ?? 0);
}

export async function insertWorkflow(tx: Executor, values: WorkflowInsert): Promise<WorkflowRow> {
  return (await tx.insert(w).values(values).returning())[0] as WorkflowRow;
}

export async function updateWorkflow(tx: Executor, id: string, values: Partial<WorkflowInsert>): Promise<WorkflowRow> {
  const rows = await tx.update(w).set({ ...values, version: sql`${w.version} + 1`, updatedAt: sql`now()` }).where(eq(w.id, id)).returning();
  return rows[0] as WorkflowRow;
}

export async function enabledWorkflows(db: Executor): Promise<WorkflowRow[]> {
  return db.select().from(w).where(and(eq(w.enabled, true), isNull(w.deletedAt)));
}

/** Scheduled workflows whose next pass is due, locked (SKIP LOCKED: one process takes each). */
export async function lockDueScheduled(tx: Executor, now: Date, limit: number): Promise<WorkflowRow[]> {
  return tx.select().from(w)
    .where(and(lte(w.nextRunAt, now), eq(w.enabled, true), isNull(w.deletedAt)))
    .orderBy(asc(w.nextRunAt)).limit(limit).for('update', { skipLocked: true });
}

export async function setNextRun(tx: Executor, id: string, at: Date | null): Promise<void> {
  await tx.update(w).set({ nextRunAt: at }).where(eq(w.id, id));
}

/** Live contacts matching a condition over `contacts` (a scheduled workflow's rules), oldest first. */
export async function contactsWhere(db: Executor, condition: SQL, limit: number): Promise<string[]> {
  const rows = await db.select({ id: contacts.id }).from(contacts).where(and(isNull(contacts.deletedAt), condition)).orderBy(asc(contacts.id)).limit(limit);
  return rows.map((x) => x.id);
}

export type RunInsert = typeof r.$inferInsert;

/** One run per (workflow, event): a second fan-out of the same event adds nothing. */
export async function insertRuns(tx: Executor, rows: RunInsert[]): Promise<void> {
  if (rows.length) await tx.insert(r).values(rows).onConflictDoNothing();
}

/** The oldest pending run, claimed `running` (SKIP LOCKED: each run is claimed by one process). */
export async function claimRun(tx: Executor, now: Date): Promise<WorkflowRunRow | undefined> {
  const rows = await tx.select().from(r).where(eq(r.status, 'pending')).orderBy(asc(r.createdAt), asc(r.id)).limit(1).for('update', { skipLocked: true });
  const run = rows[0];
  if (!run) return undefined;
  await tx.update(r).set({ status: 'running', startedAt: now }).where(eq(r.id, run.id));
  return { ...run, status: 'running', startedAt: now };
}

export async function finishRun(db: Executor, id: string, values: Pick<WorkflowRunRow, 'status' | 'results' | 'error' | 'finishedAt'>): Promise<void> {
  await db.update(r).set(values).where(eq(r.id, id));
}

/** Runs a stopped process left `running`: some of their actions may have happened, so never again. */
export async function interruptStale(db: Executor, staleBefore: Date): Promise<number> {
  const res = await queryRows(db, sql`UPDATE ${r} SET status = 'interrupted', finished_at = now(),
      error = 'the process running it stopped; not repeated, as some actions may have happened'
    WHERE status = 'running' AND started_at < ${staleBefore.toISOString()}::timestamptz`);
  return res.affected;
}

/** A workflow's runs, newest first, keyset by (createdAt, id). */
export async function listRuns(db: Executor, workflowId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<WorkflowRunRow[]> {
  const keyset = after ? or(lt(r.createdAt, after.createdAt), and(eq(r.createdAt, after.createdAt), lt(r.id, after.id))) : undefined;
  return db.select().from(r).where(and(eq(r.workflowId, workflowId), keyset)).orderBy(desc(r.createdAt), desc(r.id)).limit(limit + 1);
}

/** The next member of the team after the one who got the last record (in id order), remembered under a row lock. */
export async function nextInTurn(tx: Executor, workflowId: string, teamId: string, members: string[]): Promise<string | undefined> {
  if (members.length === 0) return undefined;
  await tx.insert(workflowRoundRobin).values({ workflowId, teamId }).onConflictDoNothing();
  const [state] = await tx.select().from(workflowRoundRobin)
    .where(and(eq(workflowRoundRobin.workflowId, workflowId), eq(workflowRoundRobin.teamId, teamId))).for('update');
  const sorted = [...members].sort();
  const next = sorted.find((id) => state?.lastUserId && id > state.lastUserId) ?? sorted[0] as string;
  await tx.update(workflowRoundRobin).set({ lastUserId: next })
    .where(and(eq(workflowRoundRobin.workflowId, workflowId), eq(workflowRoundRobin.teamId, teamId)));
  return next;
}
