import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { newId } from '../../platform/db/columns.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { type Resource, assertCan, can } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import type { CustomerServices } from '../customer/index.js';
import type { PipelineServices } from '../pipeline/index.js';
import {
  ENTITY_SPECS, ERRORS_SHOWN, IDPROPERTY_HELP, type ImportEntity, type ImportFormat, type ImportJobDto, type ImportJobSummaryDto,
  ImportQuery, toImportDto, toImportSummaryDto,
} from './import.schema.js';
import type { ImportRow } from './import.table.js';
import { type Content, type HeaderContext, csvRows, ndjsonRows } from './import.parse.js';
import { storeRows } from './import.copy.js';
import { type RunOptions, createImportWorker } from './import.worker.js';
import * as repo from './import.repository.js';

export interface ImportServiceDeps {
  db: Executor;
  customer: CustomerServices;
  pipeline: PipelineServices;
}

const IMPORTABLE: Resource[] = ['customers', 'leads', 'deals', 'orders'];

export interface ImportUpload {
  entity: unknown;
  idProperty: unknown;
  format: ImportFormat;
  /** the file, as it arrives: never held whole */
  content: Content;
}

/**
 * Bulk imports (API.md §5 Integration, §5b Imports). Starting one needs write access to the entity
 * (admin and manager always have it); a job is read by whoever started it, admin and manager.
 */
export function createImportService({ db, customer, pipeline }: ImportServiceDeps) {
  const worker = createImportWorker({ customer, pipeline });

  /** a role that may import nothing (viewer) gets 403 on every imports endpoint */
  function canUseImports(ctx: RequestContext): void {
    if (!IMPORTABLE.some((r) => can(ctx.actor, r, 'write'))) throw new AppError('forbidden', `The ${ctx.actor.role} role may not import`);
  }
  const managerial = (ctx: RequestContext) => ctx.actor.role === 'admin' || ctx.actor.role === 'manager';
  const readable = (ctx: RequestContext, row: ImportRow) => managerial(ctx) || row.actor.id === ctx.actor.id;

  async function headerContext(ctx: RequestContext, entity: ImportEntity, idProperty: string): Promise<HeaderContext> {
    const spec = ENTITY_SPECS[entity];
    if (!spec.idProperty.test(idProperty)) {
      throw validationFailed([{ path: 'idProperty', message: `must be ${IDPROPERTY_HELP[entity]} for ${entity}` }]);
    }
    const defs = spec.customEntity ? await customer.customFields.listFor(ctx, spec.customEntity) : [];
    return { entity, spec, idProperty, custom: new Map(defs.map((d) => [d.key, d.type])) };
  }

  return {
    /**
     * Stores the upload as rows, in one transaction with the job, before answering: an acknowledged
     * import survives a restart, and a refused file (400, 413) leaves nothing behind.
     */
    async create(ctx: RequestContext, upload: ImportUpload): Promise<ImportJobDto> {
      canUseImports(ctx);
      const { entity, idProperty } = parseInput(ImportQuery, { entity: upload.entity, idProperty: upload.idProperty });
      assertCan(ctx.actor, ENTITY_SPECS[entity].resource, 'write');
      const header = await headerContext(ctx, entity, idProperty);
      const rows = upload.format === 'csv' ? csvRows(upload.content, header) : ndjsonRows(upload.content);
      // once: the upload cannot be read a second time, so a serialization retry is impossible
      const row = await inTransaction(db, async (tx) => {
        const job = await repo.insertJob(tx, {
          id: newId(), entity, idProperty, format: upload.format, status: 'queued', actor: { ...ctx.actor }, requestId: ctx.requestId,
        });
        const total = await storeRows(tx, job.id, rows);
        return repo.setTotal(tx, job.id, total);
      }, 1);
      return toImportDto(row, []);
    },

    async get(ctx: RequestContext, id: string): Promise<ImportJobDto> {
      canUseImports(ctx);
      const row = await repo.findJob(db, id);
      if (!row || !readable(ctx, row)) throw notFound('Import');
      return toImportDto(row, await repo.jobErrors(db, id, ERRORS_SHOWN));
    },

    /** Newest first; a role other than admin and manager sees the jobs it started. */
    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<ImportJobSummaryDto>> {
      canUseImports(ctx);
      const list = compileList(repo.importCollection, q);
      const rows = await repo.listJobs(db, list, managerial(ctx) ? undefined : ctx.actor.id);
      return toPage(list, rows, (r) => r, toImportSummaryDto);
    },

    /** The row errors of a job (GraphQL ImportJob.errors on lists), first rows first. */
    async errors(ctx: RequestContext, id: string): Promise<ImportJobDto['errors']> {
      return (await this.get(ctx, id)).errors;
    },

    /** The worker's pass: claims a due job and applies its rows (the imports worker, and tests). */
    runDue: (x: Executor, o?: RunOptions) => worker.runDue(x, o),
  };
}

export type ImportService = ReturnType<typeof createImportService>;
