import { z } from 'zod';
import { validationFailed } from '../errors/app-error.js';
import { MAX_LIMIT, type FilterInput } from './collection.js';

export interface ListQueryOptions {
  sortable: readonly string[];
  filterable: readonly string[];
  include?: readonly string[];
  search?: boolean;
}

const filterParam = z.record(z.string(), z.record(z.string(), z.string()));

/**
 * The query string of `GET /v1/<collection>` (API.md §2). Unknown parameters are refused. The
 * descriptions list what this collection accepts, so the OpenAPI page documents it.
 */
export function listQuerySchema(o: ListQueryOptions) {
  return z
    .object({
      limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`Page size, 1–${MAX_LIMIT}, default 50`),
      cursor: z.string().max(2048).optional().describe('The nextCursor of the previous page'),
      sort: z.string().max(300).optional().describe(`Comma list of ${o.sortable.join(', ')}; prefix - for descending`),
      filter: filterParam
        .optional()
        .describe(`filter[field][op]=value with fields ${o.filterable.join(', ')} and ops eq ne gt gte lt lte in nin contains startsWith isNull`),
      ...(o.search ? { q: z.string().trim().min(1).max(200).optional().describe('Search text') } : {}),
      fields: z.string().max(1000).optional().describe('Sparse fieldset: comma list of fields to return'),
      ...(o.include?.length
        ? { include: z.string().max(200).optional().describe(`Related records to embed: ${o.include.join(', ')}`) }
        : {}),
      includeDeleted: z.enum(['true', 'false']).optional().describe('true shows soft-deleted records (admin, manager)'),
    })
    .strict();
}

export function countQuerySchema(o: ListQueryOptions) {
  return z
    .object({
      filter: filterParam.optional(),
      ...(o.search ? { q: z.string().trim().min(1).max(200).optional() } : {}),
      includeDeleted: z.enum(['true', 'false']).optional(),
    })
    .strict();
}

/** `fields` and `include` of a single-record GET (API.md §5b). */
export function recordQuerySchema(o: { include?: readonly string[] }) {
  return z
    .object({
      fields: z.string().max(1000).optional(),
      ...(o.include?.length ? { include: z.string().max(200).optional() } : {}),
    })
    .strict();
}

function commaList(text: string | undefined, allowed: readonly string[], path: string): string[] | undefined {
  if (text === undefined) return undefined;
  const items = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  const unknown = items.filter((i) => !allowed.includes(i));
  if (unknown.length || items.length === 0) {
    throw validationFailed([{ path, message: unknown.length ? `unknown: ${unknown.join(', ')}` : 'is empty' }]);
  }
  return items;
}

export const parseFields = (text: string | undefined, allowed: readonly string[]) => commaList(text, allowed, 'fields');
export const parseInclude = (text: string | undefined, allowed: readonly string[]) => commaList(text, allowed, 'include');

/** Keeps only the requested fields (and always `id`, so records stay addressable). */
export function pickFields<T extends object>(record: T, fields: string[] | undefined): T {
  if (!fields) return record;
  const out: Record<string, unknown> = {};
  for (const f of ['id', ...fields]) if (f in record) out[f] = (record as Record<string, unknown>)[f];
  // typed as T: the serializer writes only the fields present (sparse fieldsets drop `required`)
  return out as T;
}

export interface ParsedListQuery {
  limit?: number | undefined;
  cursor?: string | undefined;
  sort?: string | undefined;
  filter?: FilterInput | undefined;
  q?: string | undefined;
  includeDeleted?: boolean | undefined;
}

/** Normalises the REST query object into what services take (GraphQL builds the same thing). */
export function toListParams(query: Record<string, unknown>): ParsedListQuery {
  return {
    limit: query.limit as number | undefined,
    cursor: query.cursor as string | undefined,
    sort: query.sort as string | undefined,
    filter: query.filter as FilterInput | undefined,
    q: query.q as string | undefined,
    includeDeleted: query.includeDeleted === 'true',
  };
}
