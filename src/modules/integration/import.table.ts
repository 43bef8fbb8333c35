import { index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, ts } from '../../platform/db/columns.js';

export const IMPORT_ENTITIES = ['contacts', 'companies', 'leads', 'deals', 'orders'] as const;
export const IMPORT_FORMATS = ['csv', 'ndjson'] as const;
export const IMPORT_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;

/**
 * Bulk import jobs (API.md §5 Integration). The upload is parsed into import_rows before the 202, so
 * an acknowledged import survives a restart; workers then apply the rows in order, chunk by chunk,
 * moving `processed` forward in the same transaction as each chunk's writes (resumable, no row twice).
 */
export const imports = pgTable(
  'imports',
  {
    id: idColumn(),
    entity: text('entity', { enum: IMPORT_ENTITIES }).notNull(),
    idProperty: text('id_property').notNull(),
    format: text('format', { enum: IMPORT_FORMATS }).notNull(),
    status: text('status', { enum: IMPORT_STATUSES }).notNull().default('queued'),
    totalRows: integer('total_rows').notNull().default(0),
    processed: integer('processed').notNull().default(0),
    created: integer('created').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    /** why the whole job failed (status failed); row errors are in import_errors */
    failure: text('failure'),
    /** who started it: the rows are written with this actor's permissions and recorded as theirs */
    actor: jsonb('actor').$type<Record<string, unknown>>().notNull(),
    requestId: text('request_id'),
    /** a worker's claim; an expired lease (worker killed) lets another worker resume the job */
    leaseUntil: ts('lease_until'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('imports_created_idx').on(t.createdAt, t.id),
    index('imports_runnable_idx').on(t.createdAt).where(sql`${t.status} IN ('queued', 'running')`),
  ],
);

/** The parsed rows of an import waiting to be applied; removed as they are applied. */
export const importRows = pgTable(
  'import_rows',
  {
    importId: uuid('import_id').notNull().references(() => imports.id, { onDelete: 'cascade' }),
    /** 1 = the first data row (API.md §5b) */
    rowNo: integer('row_no').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.rowNo] })],
);

/** Per-row failures of an import, reported by GET /v1/imports/:id. */
export const importErrors = pgTable(
  'import_errors',
  {
    importId: uuid('import_id').notNull().references(() => imports.id, { onDelete: 'cascade' }),
    rowNo: integer('row_no').notNull(),
    message: text('message').notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.rowNo] })],
);

export type ImportRow = typeof imports.$inferSelect;
