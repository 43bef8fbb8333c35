import type { z } from 'zod';
import type { RequestContext } from '../../platform/auth/actor.js';
import type { Page } from '../../platform/http/collection.js';
import { type ListQueryOptions, type ParsedListQuery, parseFields, pickFields } from '../../platform/http/list-query.js';
import { UTF8_BOM, columnsOf, csvChunk } from './export.csv.js';

// Streamed exports (API.md §5 Integration: GET /v1/<collection>/export?format=csv|ndjson). An export
// is the collection's own list, page after page through its keyset cursor: the same permissions,
// scope (sales see their own and their teams' deals and leads only), filters, sort and search, and
// memory bounded by one page whatever the size of the collection.

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** the largest page a list serves (API.md §2) */
export const EXPORT_PAGE_SIZE = 200;

/** What an export needs of one collection, all of it from the module that owns the collection. */
export interface ExportCollection {
  /** the collection's URL segment, also the file name's start */
  name: string;
  /** the record's DTO: its fields become the CSV columns */
  dto: z.ZodObject;
  /** the names `fields` may take (the list's own) */
  fieldNames: readonly string[];
  /** the custom-field entity, for the `custom.<key>` columns */
  customEntity?: 'contact' | 'company' | 'deal' | 'lead' | 'ticket';
  /** the list's sortable and filterable fields and whether it searches (`q`), for the query schema */
  query: ListQueryOptions;
  list: (ctx: RequestContext, q: ParsedListQuery) => Promise<Page<object>>;
}

export interface ExportRequest extends ParsedListQuery {
  format: ExportFormat;
  fields?: string | undefined;
}

export interface ExportDownload {
  contentType: string;
  filename: string;
  /** the file, a page at a time; nothing is read before the consumer asks for it */
  body: AsyncGenerator<string>;
}

export interface ExportDeps {
  customFields: { listFor(ctx: RequestContext, entity: string | undefined): Promise<Array<{ key: string }>> };
  now?: () => Date;
}

export function createExportService({ customFields, now = () => new Date() }: ExportDeps) {
  async function encoder(ctx: RequestContext, c: ExportCollection, format: ExportFormat, fields: string[] | undefined) {
    if (format === 'ndjson') {
      return (items: object[]) => items.map((r) => `${JSON.stringify(pickFields(r, fields))}\n`).join('');
    }
    const wantsCustom = c.customEntity && (!fields || fields.includes('custom'));
    const customKeys = wantsCustom ? (await customFields.listFor(ctx, c.customEntity)).map((d) => d.key) : [];
    const columns = columnsOf(c.dto, fields ?? c.fieldNames, customKeys);
    return (items: object[], first: boolean) => (first ? UTF8_BOM : '') + csvChunk(columns, items, first);
  }

  return {
    /**
     * Checks everything and reads the first page before answering, so a refused role, a bad filter,
     * sort or field is a 400/403 problem rather than a broken download.
     */
    async open(ctx: RequestContext, c: ExportCollection, req: ExportRequest): Promise<ExportDownload> {
      const fields = parseFields(req.fields, c.fieldNames);
      const q: ParsedListQuery = { sort: req.sort, filter: req.filter, q: req.q, includeDeleted: req.includeDeleted, limit: EXPORT_PAGE_SIZE };
      const first = await c.list(ctx, q);
      const encode = await encoder(ctx, c, req.format, fields);
      async function* body(): AsyncGenerator<string> {
        let page = first;
        for (let n = 0; ; n++) {
          const chunk = encode(page.items, n === 0);
          if (chunk) yield chunk;
          if (!page.nextCursor) return;
          page = await c.list(ctx, { ...q, cursor: page.nextCursor });
        }
      }
      const date = now().toISOString().slice(0, 10);
      return {
        contentType: req.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
        filename: `${c.name}-${date}.${req.format}`,
        body: body(),
      };
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
