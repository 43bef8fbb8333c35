import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { AppError } from '../../platform/errors/app-error.js';
import { listQuerySchema, toListParams } from '../../platform/http/list-query.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { IMPORT_MAX_BYTES, ImportAccepted, ImportId, ImportJob, ImportJobList, ImportQuery, type ImportFormat } from './import.schema.js';
import { importFilterable, importSortable } from './import.repository.js';
import type { ImportService } from './import.service.js';

const tags = ['imports'];
const listQuery = listQuerySchema({ sortable: importSortable, filterable: importFilterable }).omit({ fields: true, includeDeleted: true });
const FORMATS: Record<string, ImportFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' };

/**
 * The request body of an upload, unread: the service streams it into rows. toJSON gives the
 * Idempotency-Key check something to hash without reading the file (the key then covers the URL, type and length).
 */
class Upload {
  constructor(readonly format: ImportFormat, readonly stream: Readable, private readonly length: string | undefined) {}
  toJSON() {
    return { upload: this.format, length: this.length ?? null };
  }
}

/** Bulk imports (API.md §5 Integration): CSV or NDJSON streamed into stored rows, applied by a worker. */
export const importRoutes: FastifyPluginAsyncZod<{ imports: ImportService }> = async (app, { imports }) => {
  // only in this plugin's scope: the rest of /v1 still answers these types 415
  app.addContentTypeParser(Object.keys(FORMATS), (req, payload, done) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    done(null, new Upload(FORMATS[type] ?? 'csv', payload as Readable, req.headers['content-length']));
  });

  // no route bodyLimit: it would let the JSON parser buffer that much before the 415; the stream is counted instead
  app.post('/imports', {
    schema: {
      tags, operationId: 'createImport',
      summary: 'Start an import: a text/csv or application/x-ndjson body (up to 1 GiB), stored before the 202, applied in the background',
      description: 'CSV headers are the JSON field names (custom.<key>, address.<key>, externalIds.<system>); empty cells are absent; '
        + 'lists are a;b or a JSON array. companyDomain and contactEmail columns name related records by natural key. '
        + 'An unknown header or unreadable CSV is a 400 and nothing is stored; a bad row is reported as that row\'s error.',
      querystring: ImportQuery, response: withProblems({ 202: ImportAccepted }),
    },
  }, async (req, reply) => {
    const body = req.body as unknown;
    if (!(body instanceof Upload)) throw new AppError('unsupported_media_type', 'Send the file as text/csv or application/x-ndjson');
    if (Number(req.headers['content-length'] ?? 0) > IMPORT_MAX_BYTES) {
      throw new AppError('payload_too_large', `An import file may have at most ${IMPORT_MAX_BYTES} bytes`);
    }
    const job = await imports.create(contextOf(req), { ...req.query, format: body.format, content: body.stream });
    return reply.code(202).header('location', `/v1/imports/${job.id}`).send({ id: job.id, status: job.status });
  });

  app.get('/imports', {
    schema: { tags, operationId: 'listImports', summary: 'Import jobs, newest first (admin and manager: all; others: their own)', querystring: listQuery, response: withProblems({ 200: ImportJobList }) },
  }, async (req) => {
    const page = await imports.list(contextOf(req), toListParams(req.query));
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.get('/imports/:id', {
    schema: { tags, operationId: 'getImport', summary: 'An import job: progress, counts and row errors', params: ImportId, response: withProblems({ 200: ImportJob }) },
  }, async (req) => imports.get(contextOf(req), req.params.id));
};
