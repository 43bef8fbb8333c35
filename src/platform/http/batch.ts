import { z } from 'zod';
import type { Executor } from '../db/client.js';
import { AppError, validationFailed } from '../errors/app-error.js';
import { toProblem } from '../errors/problem.js';

export const MAX_BATCH = 1000;

/** The batch envelope of API.md §3. Records are checked one by one by the service, so one bad record fails alone. */
export function batchRequestSchema(idProperties: readonly [string, ...string[]], id: string) {
  return z
    .object({
      operation: z.enum(['create', 'update', 'upsert', 'delete']),
      idProperty: z.enum(idProperties).optional().describe('How records are matched; default id'),
      records: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_BATCH),
      atomic: z.boolean().optional().describe('true: all records commit or none'),
    })
    .strict()
    .meta({ id });
}

export const BatchResultItem = z
  .object({
    index: z.number().int(),
    id: z.string().nullable(),
    status: z.enum(['created', 'updated', 'unchanged', 'deleted', 'error']),
    error: z
      .object({
        code: z.string(),
        status: z.number().int(),
        detail: z.string(),
        errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      })
      .optional(),
  })
  .meta({ id: 'BatchResultItem' });

export const BatchResponse = z.object({ results: z.array(BatchResultItem) }).meta({ id: 'BatchResponse' });
export type BatchResult = z.infer<typeof BatchResultItem>;
export type BatchStatus = Exclude<BatchResult['status'], 'error'>;

/** A record's failure as its batch result; an outage or a bug (5xx) is rethrown, failing the whole call. */
export function errorOf(e: unknown, index: number, requestId: string): BatchResult {
  const { problem } = toProblem(e, requestId);
  if (problem.status >= 500) throw e; // an outage or a bug fails the whole call, it is not a record's fault
  return {
    index,
    id: null,
    status: 'error',
    error: {
      code: problem.code,
      status: problem.status,
      detail: problem.detail,
      ...(problem.errors ? { errors: problem.errors } : {}),
    },
  };
}

/**
 * REST's schema checks the size before the route runs; GraphQL's [JSON!]! cannot say it, so every
 * door's batch is checked here as well, before the first record is written (by any write path).
 */
export function assertBatchSize(records: unknown[]): void {
  if (records.length < 1 || records.length > MAX_BATCH) {
    throw validationFailed([{ path: 'records', message: `must hold 1 to ${MAX_BATCH} records (got ${records.length})` }]);
  }
}

/**
 * Runs one handler per record inside the caller's transaction. Non-atomic: each record gets its own
 * savepoint, so a failing record rolls back alone and the rest commit. Atomic: the first failure
 * aborts everything and is reported with the results so far.
 */
export async function runBatch(
  tx: Executor,
  records: unknown[],
  atomic: boolean,
  requestId: string,
  handle: (tx: Executor, record: unknown, index: number) => Promise<{ id: string; status: BatchStatus }>,
): Promise<BatchResult[]> {
  assertBatchSize(records);
  const results: BatchResult[] = [];
  for (const [index, record] of records.entries()) {
    if (atomic) {
      try {
        results.push({ index, ...(await handle(tx, record, index)) });
      } catch (e) {
        const failed = errorOf(e, index, requestId);
        throw new AppError(failed.error!.code as never, `Record ${index} failed; nothing was written`, {
          errors: (failed.error!.errors ?? [{ path: '', message: failed.error!.detail }]).map((x) => ({
            path: x.path ? `records.${index}.${x.path}` : `records.${index}`,
            message: x.message,
          })),
          extensions: { results: [...results, failed] },
        });
      }
      continue;
    }
    try {
      const r = await tx.transaction((sp) => handle(sp as unknown as Executor, record, index));
      results.push({ index, ...r });
    } catch (e) {
      results.push(errorOf(e, index, requestId));
    }
  }
  return results;
}

export type BatchOperation = 'create' | 'update' | 'upsert' | 'delete';

/** The per-entity steps a batch operation is made of; each service supplies its own. */
export interface BatchSteps<Row extends { id: string }> {
  entity: string;
  create(tx: Executor, record: Record<string, unknown>): Promise<{ id: string }>;
  upsert(tx: Executor, idProperty: string, record: Record<string, unknown>): Promise<{ id: string; status: BatchStatus }>;
  /** the live record the key addresses, locked, or undefined */
  lockByKey(tx: Executor, idProperty: string, record: Record<string, unknown>): Promise<Row | undefined>;
  update(tx: Executor, current: Row, fields: Record<string, unknown>): Promise<{ changed: boolean }>;
  remove(tx: Executor, id: string): Promise<unknown>;
}

/** One record of a batch: the same dispatch for every entity, so batches behave alike everywhere. */
export async function applyBatchOperation<Row extends { id: string }>(
  tx: Executor,
  operation: BatchOperation,
  idProperty: string,
  raw: unknown,
  steps: BatchSteps<Row>,
): Promise<{ id: string; status: BatchStatus }> {
  const record = (raw ?? {}) as Record<string, unknown>;
  switch (operation) {
    case 'create':
      return { id: (await steps.create(tx, record)).id, status: 'created' };
    case 'upsert':
      return steps.upsert(tx, idProperty, record);
    case 'update': {
      const current = await steps.lockByKey(tx, idProperty, record);
      if (!current) throw new AppError('not_found', `${steps.entity} not found`);
      const { [idProperty]: _key, id: _id, ...fields } = record;
      const r = await steps.update(tx, current, fields);
      return { id: current.id, status: r.changed ? 'updated' : 'unchanged' };
    }
    case 'delete': {
      const current = await steps.lockByKey(tx, idProperty, record);
      if (!current) throw new AppError('not_found', `${steps.entity} not found`);
      await steps.remove(tx, current.id);
      return { id: current.id, status: 'deleted' };
    }
  }
}

/** The batch's idProperty checked by its schema: REST checks it in the route, GraphQL passes any string. */
export function batchIdProperty(schema: z.ZodType<string>, given: string | undefined): string {
  const key = schema.safeParse(given ?? 'id');
  if (!key.success) throw validationFailed([{ path: 'idProperty', message: key.error.issues[0]?.message ?? 'is not valid' }]);
  return key.data;
}
