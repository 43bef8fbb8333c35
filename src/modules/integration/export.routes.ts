import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { type ListQueryOptions, listQuerySchema, toListParams } from '../../platform/http/list-query.js';
import { Problem } from '../../platform/http/problem.schema.js';
import { EXPORT_FORMATS, type ExportCollection, type ExportService } from './export.service.js';

// GET /v1/<collection>/export for each exportable collection. REST only: a download has no GraphQL form.

const exportFile = {
  description: 'The file, streamed as an attachment (see docs/integration.md "Exports")',
  content: {
    'text/csv': {
      schema: z.string().describe('UTF-8 with a BOM, CRLF; a header line of field names; objects flattened as address.city and '
        + 'custom.<key> columns; string lists ;-joined, other lists JSON; formula-like text prefixed with \''),
    },
    'application/x-ndjson': { schema: z.string().describe('one record per line, as GET /v1/<collection> returns it') },
  },
};

export function exportQuery(o: ListQueryOptions) {
  return listQuerySchema(o)
    .omit({ limit: true, cursor: true })
    .extend({ format: z.enum(EXPORT_FORMATS).optional().describe('csv (the default) or ndjson') })
    .strict();
}

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const exportRoutes: FastifyPluginAsyncZod<{ exports: ExportService; collections: ExportCollection[] }> = async (app, { exports, collections }) => {
  for (const c of collections) {
    app.get(`/${c.name}/export`, {
      schema: {
        tags: [c.name], operationId: `export${pascal(c.name)}`,
        summary: `Download ${c.name} as CSV or NDJSON (streamed; the list's filters, sort, q and fields apply)`,
        querystring: exportQuery(c.query), response: { 200: exportFile, '4XX': Problem, '5XX': Problem },
      },
    }, async (req, reply) => {
      const query = req.query as Record<string, unknown> & { format?: 'csv' | 'ndjson'; fields?: string };
      const download = await exports.open(contextOf(req), c, { ...toListParams(query), format: query.format ?? 'csv', fields: query.fields });
      reply
        .type(download.contentType)
        .header('content-disposition', `attachment; filename="${download.filename}"`)
        .header('cache-control', 'no-store');
      // a byte stream with a small buffer: about one page is read ahead of a slow client, never more.
      // A stream bypasses the response serializer; the schema above documents the file for OpenAPI
      return reply.send(Readable.from(download.body, { objectMode: false, highWaterMark: 64 * 1024 }) as never);
    });
  }
};
