import { type SQL, and, sql } from 'drizzle-orm';
import { type FieldError, validationFailed } from '../errors/app-error.js';
import { NULL_STANDIN, type StandinKind, nullableSortExprs } from '../db/sort-keys.js';
import { decodeCursor, encodeCursor } from './cursor.js';

// The collection grammar of API.md §2, written once: filters, sorts and keyset cursors compiled
// to SQL from a module's declaration of its fields. REST and GraphQL both feed it.

export type FieldType = 'string' | 'integer' | 'decimal' | 'number' | 'boolean' | 'datetime' | 'date' | 'uuid' | 'enum' | 'tags';

export interface FieldSpec {
  /** the SQL expression the field reads from (usually a column) */
  expr: SQL | SQL.Aliased | import('drizzle-orm/pg-core').PgColumn;
  type: FieldType;
  nullable: boolean;
  sortable?: boolean;
  /** defaults to true */
  filterable?: boolean;
  /** allowed values of an enum field */
  values?: readonly string[];
  /**
   * Compiles an operator itself instead of the generic `expr <op> value`, or returns undefined to
   * fall back to it: custom fields turn eq/in into jsonb containment so a GIN index serves them.
   */
  filterSql?: (op: FilterOp, values: string[]) => SQL | undefined;
}

export interface CollectionSpec {
  fields: Record<string, FieldSpec>;
  /** the unique tie-breaker every sort ends with */
  id: FieldSpec;
  defaultSort: string;
  /** looks up fields not declared statically, e.g. `custom.tier` (customer module) */
  dynamicField?: (name: string) => FieldSpec | undefined;
}

export const FILTER_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'startsWith', 'isNull'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];
export type FilterValue = string | string[];
/** `{ field: { op: value } }`: REST's `filter[field][op]=value` and GraphQL's filter input both become this. */
export type FilterInput = Record<string, Partial<Record<string, FilterValue>>>;

const OPS_BY_TYPE: Record<FieldType, readonly FilterOp[]> = {
  string: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'startsWith', 'isNull'],
  integer: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  decimal: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  datetime: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'isNull'],
  date: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'],
  boolean: ['eq', 'ne', 'isNull'],
  uuid: ['eq', 'ne', 'in', 'nin', 'isNull'],
  enum: ['eq', 'ne', 'in', 'nin', 'isNull'],
  tags: ['eq', 'contains', 'in', 'nin', 'isNull'],
};

const MAX_IN_VALUES = 100;

const CAST: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  decimal: 'numeric',
  number: 'numeric',
  boolean: 'boolean',
  datetime: 'timestamptz',
  date: 'date',
  uuid: 'uuid',
  enum: 'text',
  tags: 'text',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "2024-02-30" parses in JS (as 1 March) but Postgres refuses it with a 500-worthy error: check the day exists. */
function realDay(raw: string): boolean {
  const [y, m, d] = raw.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/** Checks one value against the field type; returns the canonical text to send, or an error message. */
function parseValue(f: FieldSpec, raw: string): { ok: string } | { error: string } {
  switch (f.type) {
    case 'integer':
      return /^-?\d{1,15}$/.test(raw) ? { ok: raw } : { error: 'must be an integer' };
    case 'decimal':
      return /^-?\d{1,15}(\.\d{1,4})?$/.test(raw) ? { ok: raw } : { error: 'must be a decimal number' };
    case 'number': // any finite JSON number, as custom number fields store them (1e-7, 3.14159)
      return raw.length <= 40 && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw) ? { ok: raw } : { error: 'must be a number' };
    case 'boolean':
      return raw === 'true' || raw === 'false' ? { ok: raw } : { error: 'must be true or false' };
    case 'datetime': {
      const d = new Date(raw);
      return /^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(d.getTime()) && realDay(raw)
        ? { ok: d.toISOString() }
        : { error: 'must be an ISO 8601 date-time' };
    }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(raw) && !Number.isNaN(Date.parse(raw)) && realDay(raw)
        ? { ok: raw }
        : { error: 'must be a date YYYY-MM-DD' };
    case 'uuid':
      return UUID.test(raw) ? { ok: raw.toLowerCase() } : { error: 'must be a UUID' };
    case 'enum':
      return f.values?.includes(raw) ? { ok: raw } : { error: `must be one of ${f.values?.join(', ')}` };
    default:
      return raw.length <= 1000 ? { ok: raw } : { error: 'is too long' };
  }
}

const typed = (f: FieldSpec, v: string) => sql`${v}::${sql.raw(CAST[f.type])}`;
// ARRAY[$1, $2]: drizzle renders a JS array as a row `($1, $2)`, which Postgres cannot cast to an array.
const typedArray = (f: FieldSpec, vs: string[]) =>
  sql`ARRAY[${sql.join(vs.map((v) => sql`${v}`), sql`, `)}]::${sql.raw(CAST[f.type])}[]`;
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function opSql(f: FieldSpec, op: FilterOp, values: string[]): SQL {
  const c = sql`${f.expr}`;
  const v = values[0] as string;
  if (f.type === 'tags') {
    switch (op) {
      case 'eq':
      case 'contains':
        return sql`${c} @> ARRAY[${v}]::text[]`;
      case 'in':
        return sql`${c} && ${typedArray(f, values)}`;
      case 'nin':
        return sql`NOT (${c} && ${typedArray(f, values)})`;
      default:
        return v === 'true' ? sql`cardinality(${c}) = 0` : sql`cardinality(${c}) > 0`;
    }
  }
  switch (op) {
    case 'eq':
      return sql`${c} = ${typed(f, v)}`;
    case 'ne':
      return sql`(${c} <> ${typed(f, v)} OR ${c} IS NULL)`;
    case 'gt':
      return sql`${c} > ${typed(f, v)}`;
    case 'gte':
      return sql`${c} >= ${typed(f, v)}`;
    case 'lt':
      return sql`${c} < ${typed(f, v)}`;
    case 'lte':
      return sql`${c} <= ${typed(f, v)}`;
    case 'in':
      return sql`${c} = ANY(${typedArray(f, values)})`;
    case 'nin':
      return sql`(${c} <> ALL(${typedArray(f, values)}) OR ${c} IS NULL)`;
    case 'contains':
      return sql`${c} ILIKE ${`%${escapeLike(v)}%`}`;
    case 'startsWith':
      return sql`${c} ILIKE ${`${escapeLike(v)}%`}`;
    case 'isNull':
      return v === 'true' ? sql`${c} IS NULL` : sql`${c} IS NOT NULL`;
  }
}

function fieldOf(spec: CollectionSpec, name: string): FieldSpec | undefined {
  return Object.hasOwn(spec.fields, name) ? spec.fields[name] : spec.dynamicField?.(name);
}

/** Compiles a filter object to one SQL condition (AND of all), or throws validation_failed listing every bad part. */
export function compileFilter(spec: CollectionSpec, filter: FilterInput | undefined): SQL | undefined {
  if (!filter) return undefined;
  const errors: FieldError[] = [];
  const parts: SQL[] = [];
  for (const [name, ops] of Object.entries(filter)) {
    const f = fieldOf(spec, name);
    if (!f || f.filterable === false) {
      errors.push({ path: `filter.${name}`, message: 'is not a filterable field' });
      continue;
    }
    if (!ops || typeof ops !== 'object' || Array.isArray(ops)) {
      errors.push({ path: `filter.${name}`, message: 'needs an operator: filter[field][op]=value' });
      continue;
    }
    for (const [op, raw] of Object.entries(ops)) {
      const path = `filter.${name}.${op}`;
      if (!OPS_BY_TYPE[f.type].includes(op as FilterOp)) {
        errors.push({ path, message: `operator not supported here; use one of ${OPS_BY_TYPE[f.type].join(', ')}` });
        continue;
      }
      if (raw === undefined) continue;
      const list = op === 'in' || op === 'nin';
      const rawValues = Array.isArray(raw) ? raw : list ? raw.split(',') : [raw];
      if (typeof raw !== 'string' && !(list && Array.isArray(raw))) {
        errors.push({ path, message: 'must be a single value' });
        continue;
      }
      if (list && (rawValues.length === 0 || rawValues.length > MAX_IN_VALUES)) {
        errors.push({ path, message: `takes 1 to ${MAX_IN_VALUES} values` });
        continue;
      }
      if (op === 'isNull') {
        if (raw !== 'true' && raw !== 'false') errors.push({ path, message: 'must be true or false' });
        else parts.push(f.filterSql?.(op, [raw]) ?? opSql(f, op, [raw]));
        continue;
      }
      const valueSpec = f.type === 'tags' ? { ...f, type: 'string' as const } : f;
      const values: string[] = [];
      for (const rv of rawValues) {
        const p = parseValue(valueSpec, String(rv));
        if ('error' in p) errors.push({ path, message: p.error });
        else values.push(p.ok);
      }
      if (values.length === rawValues.length) parts.push(f.filterSql?.(op as FilterOp, values) ?? opSql(f, op as FilterOp, values));
    }
  }
  if (errors.length) throw validationFailed(errors, 'The filter is not valid');
  return parts.length ? and(...parts) : undefined;
}

export interface SortKey {
  name: string;
  field: FieldSpec;
  desc: boolean;
}

export function compileSort(spec: CollectionSpec, sort: string | undefined): SortKey[] {
  const text = sort?.trim() || spec.defaultSort;
  const keys: SortKey[] = [];
  const errors: FieldError[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const desc = part.startsWith('-');
    const name = desc ? part.slice(1) : part;
    const field = fieldOf(spec, name);
    if (!field || !field.sortable) errors.push({ path: 'sort', message: `"${name}" is not a sortable field` });
    else if (keys.some((k) => k.name === name)) errors.push({ path: 'sort', message: `"${name}" is listed twice` });
    else keys.push({ name, field, desc });
  }
  if (errors.length) throw validationFailed(errors, 'The sort is not valid');
  const last = keys.at(-1);
  if (!keys.some((k) => k.name === 'id')) keys.push({ name: 'id', field: spec.id, desc: last?.desc ?? false });
  return keys;
}

// A nullable key sorts as (IS NULL, coalesce): see platform/db/sort-keys.ts, which the indexes share.
const STANDIN_KIND: Record<FieldType, StandinKind> = {
  string: 'text',
  enum: 'text',
  tags: 'array',
  integer: 'number',
  decimal: 'number',
  number: 'number',
  boolean: 'boolean',
  datetime: 'time',
  date: 'time',
  uuid: 'uuid',
};

/** The expressions a key sorts by: the value itself, or (IS NULL, coalesce) for a nullable one. */
function sortExprs(f: FieldSpec): SQL[] {
  return f.nullable ? nullableSortExprs(f.expr, STANDIN_KIND[f.type]) : [sql`${f.expr}`];
}

/** The cursor's side of the row comparison, expression by expression as sortExprs gives them. */
function sortValues(f: FieldSpec, v: string | null): SQL[] {
  if (!f.nullable) return [typed(f, v as string)];
  return v === null
    ? [sql`true`, sql`${sql.raw(NULL_STANDIN[STANDIN_KIND[f.type]])}::${sql.raw(CAST[f.type])}`]
    : [sql`false`, typed(f, v)];
}

export function orderBySql(keys: SortKey[]): SQL[] {
  return keys.flatMap((k) => sortExprs(k.field).map((e) => (k.desc ? sql`${e} DESC` : sql`${e} ASC`)));
}

/** The condition "comes after this cursor position" for the given sort. */
function afterKeyset(keys: SortKey[], values: (string | null)[]): SQL {
  const sameDirection = keys.every((k) => k.desc === keys[0]?.desc);
  if (sameDirection) {
    // A row comparison lets Postgres walk a composite index straight to the position.
    const cols = sql.join(keys.flatMap((k) => sortExprs(k.field)), sql`, `);
    const vals = sql.join(keys.flatMap((k, i) => sortValues(k.field, values[i] ?? null)), sql`, `);
    return keys[0]?.desc ? sql`(${cols}) < (${vals})` : sql`(${cols}) > (${vals})`;
  }
  // Mixed directions: no single btree order serves them, so the condition is spelled out key by key.
  const branches: SQL[] = keys.map((k, i) => {
    const equalBefore = keys.slice(0, i).map((p, j) => {
      const v = values[j] ?? null;
      return v === null ? sql`${p.field.expr} IS NULL` : sql`${p.field.expr} = ${typed(p.field, v)}`;
    });
    const v = values[i] ?? null;
    const c = k.field.expr;
    let after: SQL;
    if (k.desc) after = v === null ? sql`${c} IS NOT NULL` : sql`${c} < ${typed(k.field, v)}`;
    else after = v === null ? sql`FALSE` : sql`(${c} > ${typed(k.field, v)} OR ${c} IS NULL)`;
    return and(...equalBefore, after) as SQL;
  });
  return sql`(${sql.join(branches, sql` OR `)})`;
}

const signature = (keys: SortKey[]) => keys.map((k) => (k.desc ? `-${k.name}` : k.name)).join(',');

export interface CompiledList {
  where: SQL | undefined;
  orderBy: SQL[];
  /** rows to fetch: one more than the page, to know whether another page follows */
  fetch: number;
  limit: number;
  keys: SortKey[];
}

export interface ListParams {
  limit?: number | undefined;
  cursor?: string | undefined;
  sort?: string | undefined;
  filter?: FilterInput | undefined;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export function compileList(spec: CollectionSpec, p: ListParams): CompiledList {
  const limit = p.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw validationFailed([{ path: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
  }
  const keys = compileSort(spec, p.sort);
  const conditions: (SQL | undefined)[] = [compileFilter(spec, p.filter)];
  if (p.cursor) {
    const c = decodeCursor(p.cursor);
    if (!c || c.s !== signature(keys) || c.v.length !== keys.length) {
      throw validationFailed([{ path: 'cursor', message: 'is not a cursor of this listing and sort' }]);
    }
    // null where the field cannot be null would compare as unknown and silently end the listing
    const bad = keys.findIndex((k, i) => (c.v[i] === null ? !k.field.nullable : 'error' in parseValue(k.field, String(c.v[i]))));
    if (bad >= 0) throw validationFailed([{ path: 'cursor', message: 'is damaged' }]);
    conditions.push(afterKeyset(keys, c.v));
  }
  return { where: and(...conditions), orderBy: orderBySql(keys), fetch: limit + 1, limit, keys };
}

/** The sort values of a row, read by the field names of the sort: what a cursor stores. */
export type CursorRow = Record<string, unknown>;

function cursorValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

export function cursorOf(keys: SortKey[], row: CursorRow): string {
  return encodeCursor({ s: signature(keys), v: keys.map((k) => cursorValue(row[k.name])) });
}

export interface Page<T> {
  items: T[];
  /** one cursor per item (GraphQL edges), made on first call: REST answers with nextCursor alone */
  cursors: () => string[];
  nextCursor: string | null;
}

/**
 * Cuts the extra row fetched by compileList and makes the next page's cursor. `sortRow` reads a row's
 * sort values. Every item's cursor (a copy of the row and a base64 JSON each) is made only when asked
 * for: GraphQL's edges need them, a REST page needs only the last one, and only when there is more.
 */
export function toPage<R, T>(list: CompiledList, rows: R[], sortRow: (r: R) => CursorRow, map: (r: R) => T): Page<T> {
  const pageRows = rows.slice(0, list.limit);
  let cursors: string[] | undefined;
  const last = pageRows.at(-1);
  return {
    items: pageRows.map(map),
    cursors: () => (cursors ??= pageRows.map((r) => cursorOf(list.keys, sortRow(r)))),
    nextCursor: rows.length > list.limit && last !== undefined ? cursorOf(list.keys, sortRow(last)) : null,
  };
}
