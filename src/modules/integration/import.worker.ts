import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { Actor, RequestContext } from '../../platform/auth/actor.js';
import { assertCan, scopeCondition } from '../../platform/auth/permissions.js';
import { AppError } from '../../platform/errors/app-error.js';
import { type BatchResult, MAX_BATCH } from '../../platform/http/batch.js';
import { companyTable, contactTable, type CustomerServices } from '../customer/index.js';
import type { PipelineServices } from '../pipeline/index.js';
import { ENTITY_SPECS, type ImportEntity } from './import.schema.js';
import type { ImportRow } from './import.table.js';
import { ROW_ERROR } from './import.parse.js';
import * as repo from './import.repository.js';

/**
 * rows per chunk: one batch call (the batch services' maximum). A contacts chunk is one transaction with
 * its bookkeeping. 5000-row chunks gained nothing measurable (the cost is per row, in the batch) and held
 * their transaction past a graceful shutdown's 10 s on a loaded machine (killed: the chunk rolled back).
 */
export const CHUNK_ROWS = MAX_BATCH;
/** a claim lasts this long unless renewed (every chunk renews it); a dead worker's job resumes after it */
export const LEASE_MS = 60_000;
/** one pass works on a job about this long, then hands it back so shutdowns and other jobs are not held up */
const PASS_BUDGET_MS = 5_000;

type Batch = (ctx: RequestContext, req: { operation: 'create' | 'upsert'; idProperty: string; records: unknown[] }, tx: Executor) => Promise<BatchResult[]>;
type Row = { rowNo: number; data: Record<string, unknown> };
type Pending = { rowNo: number; record: Record<string, unknown> };

export interface RunOptions {
  /** stop after this many chunks (tests) */
  maxChunks?: number;
  /** with maxChunks: keep the lease as a worker killed at that point would (tests simulate a crash) */
  keepLease?: boolean;
  /** rows per chunk instead of CHUNK_ROWS (tests) */
  chunkRows?: number;
}

/** A batch result's error as one line, with the field paths: `email: must be an email address`. */
export function errorMessage(r: BatchResult): string {
  const e = r.error;
  if (!e) return 'failed';
  const fields = (e.errors ?? []).map((x) => (x.path ? `${x.path}: ${x.message}` : x.message));
  return fields.length ? `${e.detail} (${fields.join('; ')})` : e.detail;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : undefined);
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/**
 * Applies imports in the background, through the entity's own batch service (the same validation,
 * permissions, audit and events as POST /v1/<collection>/batch), with the rights of whoever started them.
 */
export function createImportWorker({ customer, pipeline }: { customer: CustomerServices; pipeline: PipelineServices }) {
  // contacts write in the chunk's transaction (`tx`), with its bookkeeping; the others in one of their own
  const batches: Record<ImportEntity, Batch> = {
    contacts: (ctx, req, tx) => customer.contacts.batch(ctx, req, tx),
    companies: (ctx, req) => customer.companies.batch(ctx, req),
    orders: (ctx, req) => customer.orders.batch(ctx, req),
    leads: (ctx, req) => pipeline.leads.batch(ctx, req),
    deals: (ctx, req) => pipeline.deals.batch(ctx, req),
  };

  /** The chunk's natural keys (companyDomain, contactEmail) → ids: one query per kind of key. */
  async function lookups(db: Executor, ctx: RequestContext, entity: ImportEntity, rows: Row[]) {
    const relations = ENTITY_SPECS[entity].relations;
    const keys = (col: string) => [...new Set(rows.flatMap((r) => listOf(r.data[col]).map(lower).filter((x): x is string => !!x)))];
    const needs = (col: string) => col in relations && rows.some((r) => r.data[col] !== undefined);
    const scope = needs('companyDomain') || needs('contactEmail') ? assertCan(ctx.actor, 'customers', 'read') : 'all';
    return {
      companyDomain: needs('companyDomain')
        ? await repo.companyIdsByDomain(db, keys('companyDomain'), scopeCondition(ctx.actor, scope, companyTable)) : new Map<string, string>(),
      contactEmail: needs('contactEmail')
        ? await repo.contactIdsByEmail(db, keys('contactEmail'), scopeCondition(ctx.actor, scope, contactTable)) : new Map<string, string>(),
    };
  }

  /** A row's record for the batch, its natural keys swapped for ids; or why it cannot be applied. */
  function recordOf(entity: ImportEntity, data: Record<string, unknown>, found: Record<string, Map<string, string>>): Record<string, unknown> | string {
    if (typeof data[ROW_ERROR] === 'string') return data[ROW_ERROR];
    const record = { ...data };
    for (const [col, field] of Object.entries(ENTITY_SPECS[entity].relations)) {
      if (record[col] === undefined) continue;
      const given = listOf(record[col]);
      delete record[col];
      if (record[field] !== undefined) return `${col}: give ${field} or ${col}, not both`;
      const ids: string[] = [];
      for (const key of given) {
        const id = found[col]?.get(lower(key) ?? '');
        if (typeof key !== 'string') return `${col}: must be a string`;
        if (!id) return `${col}: no live ${col === 'companyDomain' ? 'company has the domain' : 'contact has the email'} ${key}`;
        ids.push(id);
      }
      if (field === 'contactIds') record[field] = ids;
      else if (ids.length !== 1) return `${col}: must be one value`;
      else record[field] = ids[0];
    }
    return record;
  }

  /** The key a row is matched by, as the batch services compare it, to see a key repeated within a run. */
  function matchKey(entity: ImportEntity, idProperty: string, record: Record<string, unknown>): string | undefined {
    const [field, key] = ENTITY_SPECS[entity].keyColumn(idProperty).split('.') as [string, string?];
    const whole = record[field];
    const v = key === undefined ? whole : whole && typeof whole === 'object' ? (whole as Record<string, unknown>)[key] : undefined;
    if (typeof v !== 'string') return undefined;
    return idProperty === 'email' || idProperty === 'domain' ? v.trim().toLowerCase() : v.trim();
  }

  /**
   * Consecutive rows of one operation (with idProperty=id a row without an id is a create), at most
   * MAX_BATCH a run. A key met again starts a new run: the later row must see what the earlier wrote,
   * which a set-based batch gives only across calls (within one it would go record by record).
   */
  function runsOf(entity: ImportEntity, idProperty: string, pending: Pending[]): { operation: 'create' | 'upsert'; rows: Pending[] }[] {
    const runs: { operation: 'create' | 'upsert'; rows: Pending[]; keys: Set<string> }[] = [];
    for (const p of pending) {
      const operation = idProperty === 'id' && p.record.id === undefined ? 'create' : 'upsert';
      const key = operation === 'upsert' ? matchKey(entity, idProperty, p.record) : undefined;
      let last = runs.at(-1);
      if (!last || last.operation !== operation || last.rows.length >= MAX_BATCH || (key !== undefined && last.keys.has(key))) {
        last = { operation, rows: [], keys: new Set() };
        runs.push(last);
      }
      last.rows.push(p);
      if (key !== undefined) last.keys.add(key);
    }
    return runs;
  }

  /** `tx`: where the rows are read and, for contacts, written (the chunk's transaction there). */
  async function applyChunk(tx: Executor, job: ImportRow, ctx: RequestContext, rows: Row[]): Promise<repo.ChunkOutcome> {
    const found = await lookups(tx, ctx, job.entity, rows);
    const outcome: repo.ChunkOutcome = { lastRow: rows.at(-1)?.rowNo ?? job.processed, rows: rows.length, created: 0, updated: 0, errors: [], done: false };
    const pending: Pending[] = [];
    for (const r of rows) {
      const record = recordOf(job.entity, r.data, found);
      if (typeof record === 'string') outcome.errors.push({ rowNo: r.rowNo, message: record });
      else pending.push({ rowNo: r.rowNo, record });
    }
    for (const run of runsOf(job.entity, job.idProperty, pending)) {
      const req = { operation: run.operation, idProperty: job.idProperty, records: run.rows.map((p) => p.record) };
      const results = await batches[job.entity](ctx, req, tx);
      for (const r of results) {
        const rowNo = (run.rows[r.index] as Pending).rowNo;
        if (r.status === 'created') outcome.created++;
        else if (r.status === 'error') outcome.errors.push({ rowNo, message: errorMessage(r) });
        else outcome.updated++;
      }
    }
    outcome.errors.sort((a, b) => a.rowNo - b.rowNo);
    outcome.done = outcome.lastRow >= job.totalRows;
    return outcome;
  }

  /**
   * Renews the claim every third of a lease while a chunk is applied, so a slow chunk is not taken
   * over half-way; the renewals are done before the chunk's bookkeeping, which uses the latest lease.
   */
  async function heartbeat<T>(db: Executor, id: string, claim: { lease: Date; processed: number }, work: () => Promise<T>): Promise<T> {
    let beat = Promise.resolve();
    const timer = setInterval(() => {
      beat = beat.then(async () => {
        const next = new Date(Date.now() + LEASE_MS);
        if (await repo.renewLease(db, id, claim.lease, claim.processed, next)) claim.lease = next;
      }).catch(() => undefined);
    }, LEASE_MS / 3);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      await beat;
    }
  }

  const contextOf = (job: ImportRow): RequestContext => ({ actor: job.actor as unknown as Actor, requestId: job.requestId ?? `import:${job.id}` });
  type Claim = { lease: Date; processed: number };
  type Applied = { outcome: repo.ChunkOutcome; lease: Date } | undefined;

  /**
   * Contacts: the chunk's writes and its bookkeeping in one transaction, which commits whole or not at
   * all, so a crash never applies a row twice. The job's row is locked first (renewing the lease):
   * other workers' claims skip a locked job, so no heartbeat is needed however long the chunk takes.
   * Undefined when the claim was lost (nothing written).
   */
  async function chunkInOneTransaction(db: Executor, job: ImportRow, ctx: RequestContext, rows: Row[], claim: Claim): Promise<Applied> {
    const lost = new Error('claim lost');
    try {
      return await inTransaction(db, async (tx) => {
        const lease = new Date(Date.now() + LEASE_MS);
        if (!(await repo.renewLease(tx, job.id, claim.lease, claim.processed, lease))) throw lost;
        const outcome = await applyChunk(tx, job, ctx, rows);
        const next = new Date(Date.now() + LEASE_MS);
        if (!(await repo.finishChunk(tx, job.id, lease, claim.processed, next, outcome))) throw lost;
        return { outcome, lease: next };
      }, 1);
    } catch (e) {
      if (e === lost) return undefined;
      throw e;
    }
  }

  /**
   * The other entities: the batch service writes in its own transaction, then the bookkeeping commits.
   * A crash between the two re-applies that chunk on resume, which upserts make harmless.
   */
  async function chunkThenBookkeeping(db: Executor, job: ImportRow, ctx: RequestContext, rows: Row[], claim: Claim): Promise<Applied> {
    const outcome = await heartbeat(db, job.id, claim, () => applyChunk(db, job, ctx, rows));
    const next = new Date(Date.now() + LEASE_MS);
    if (!(await inTransaction(db, (tx) => repo.finishChunk(tx, job.id, claim.lease, claim.processed, next, outcome)))) return undefined;
    return { outcome, lease: next };
  }

  /**
   * One pass: claims a job and applies its rows chunk by chunk, in row order, each chunk's errors, rows
   * removed, counters and resume point committed with it (see the two chunk functions above).
   * Answers how many rows it applied (at least 1 when it worked on a job at all).
   */
  async function runDue(db: Executor, o: RunOptions = {}): Promise<number> {
    const claim: Claim = { lease: new Date(Date.now() + LEASE_MS), processed: 0 };
    const job = await inTransaction(db, (tx) => repo.claimJob(tx, new Date(), claim.lease));
    if (!job) return 0;
    const ctx = contextOf(job);
    const started = Date.now();
    const fail = (why: string) => inTransaction(db, (tx) => repo.failJob(tx, job.id, claim.lease, claim.processed, why));
    const oneTransaction = job.entity === 'contacts';
    claim.processed = job.processed;
    let applied = 0;
    const did = () => Math.max(applied, 1);
    for (let chunks = 1; ; chunks++) {
      const rows = await repo.nextRows(db, job.id, claim.processed, o.chunkRows ?? CHUNK_ROWS);
      if (!rows.length && claim.processed < job.totalRows) {
        await fail(`rows ${claim.processed + 1} to ${job.totalRows} are missing`);
        return did();
      }
      let done: Applied;
      try {
        done = await (oneTransaction ? chunkInOneTransaction : chunkThenBookkeeping)(db, job, ctx, rows, claim);
      } catch (e) {
        // a refusal of the whole batch (the rights it was started with are not enough) ends the job; outages retry
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        await fail(e.message);
        return did();
      }
      if (!done) return did();
      Object.assign(claim, { lease: done.lease, processed: done.outcome.lastRow });
      applied += rows.length;
      if (done.outcome.done) return did();
      if (chunks >= (o.maxChunks ?? Infinity) || Date.now() - started > PASS_BUDGET_MS) {
        if (!o.keepLease) await repo.releaseLease(db, job.id, claim.lease, claim.processed);
        return did();
      }
    }
  }

  return { runDue };
}

export type ImportWorker = ReturnType<typeof createImportWorker>;
