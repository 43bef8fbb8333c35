import { type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../platform/db/client.js';
import { z } from 'zod';
import type { FieldError } from '../../platform/errors/app-error.js';
import type { CursorRow, FieldSpec, FieldType, FilterOp } from '../../platform/http/collection.js';
import { toE164 } from '../../platform/http/phone.js';
import type { CustomEntity, CustomType } from './custom-field.schema.js';

// The values side of custom fields: checking and normalising what a write puts under `custom`, and
// the `custom.<key>` fields of the §2 filter/sort grammar. Pure functions over a list of definitions;
// custom-field.service.ts supplies the (cached) definitions.

/** The parts of a definition the values depend on. */
export interface CustomDefinition {
  key: string;
  type: CustomType;
  options: readonly string[];
  required: boolean;
}

export type CustomWrite = 'create' | 'patch';

/**
 * The hook entity services take: errors to report, and the values to store (normalised). `tx` is the
 * write's transaction, used when the definitions must be read (PGlite's one connection is held by it).
 */
export type ValidateCustom = (
  entity: CustomEntity,
  custom: Record<string, unknown>,
  op: CustomWrite,
  tx?: Executor,
) => Promise<{ errors: FieldError[]; values: Record<string, unknown> }>;

/** The hook entity services take for lists: `custom.<key>` → its FieldSpec, for the entity's `custom` column. */
/** `executor`: read the definitions in this transaction (a caller holding one must not wait on another connection) */
export type CustomFieldLookup = (entity: CustomEntity, column: PgColumn, executor?: Executor) => Promise<(name: string) => FieldSpec | undefined>;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DECIMAL = /^-?\d{1,15}(\.\d{1,4})?$/;
const email = z.email();

function realDay(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

type Checked = { ok: unknown } | { error: string };

/** One value against its definition: the value to store, or why it is refused. */
export function checkValue(def: CustomDefinition, v: unknown, phoneRegion: string): Checked {
  const str = typeof v === 'string' ? v : undefined;
  switch (def.type) {
    case 'text':
      return str !== undefined && str.length <= 10_000 ? { ok: str } : { error: 'must be a string of at most 10000 characters' };
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? { ok: v } : { error: 'must be a finite number' };
    case 'boolean':
      return typeof v === 'boolean' ? { ok: v } : { error: 'must be true or false' };
    case 'date':
      return str && DATE.test(str) && realDay(str) ? { ok: str } : { error: 'must be a date YYYY-MM-DD' };
    case 'datetime': {
      // Stored as UTC with milliseconds, so equal instants compare (and index) equal whatever the offset written.
      const d = str && DATETIME.test(str) && realDay(str) ? new Date(str) : undefined;
      return d && !Number.isNaN(d.getTime()) ? { ok: d.toISOString() } : { error: 'must be an ISO 8601 date-time with an offset' };
    }
    case 'select':
      return str !== undefined && def.options.includes(str) ? { ok: str } : { error: `must be one of ${def.options.join(', ')}` };
    case 'multiselect': {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !def.options.includes(x))) {
        return { error: `must be an array of values among ${def.options.join(', ')}` };
      }
      return new Set(v).size === v.length ? { ok: v } : { error: 'must not repeat a value' };
    }
    case 'email': {
      // lower-cased like contacts' email, so a unique email field is unique whatever the case
      const e = str?.trim().toLowerCase();
      return e && e.length <= 320 && email.safeParse(e).success ? { ok: e } : { error: 'must be an email address' };
    }
    case 'url': {
      let u: URL | undefined;
      try {
        u = str && str.length <= 2000 ? new URL(str) : undefined;
      } catch {
        u = undefined;
      }
      return u && (u.protocol === 'http:' || u.protocol === 'https:') ? { ok: str } : { error: 'must be an http or https URL' };
    }
    case 'phone': {
      if (str === undefined || str.length > 50) return { error: 'must be a phone number' };
      const r = toE164(str, phoneRegion);
      return 'ok' in r ? { ok: r.ok } : r;
    }
    case 'currency':
      return str !== undefined && DECIMAL.test(str) ? { ok: str } : { error: 'must be a decimal string such as "1234.50"' };
  }
}

/**
 * Checks `custom` of a write: unknown keys, types, required fields. On create a null value is simply
 * absent; on patch it removes the key (JSON merge patch), which a required field refuses.
 */
export function validateValues(
  defs: readonly CustomDefinition[],
  custom: Record<string, unknown>,
  op: CustomWrite,
  phoneRegion: string,
): { errors: FieldError[]; values: Record<string, unknown> } {
  const byKey = new Map(defs.map((d) => [d.key, d]));
  const errors: FieldError[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(custom)) {
    const def = byKey.get(key);
    const path = `custom.${key}`;
    if (!def) {
      errors.push({ path, message: 'is not a defined custom field' });
    } else if (v === null || v === undefined) {
      if (def.required) errors.push({ path, message: op === 'patch' ? 'is required and may not be removed' : 'is required' });
      else if (op === 'patch') values[key] = null;
    } else {
      const r = checkValue(def, v, phoneRegion);
      if ('ok' in r) values[key] = r.ok;
      else errors.push({ path, message: r.error });
    }
  }
  if (op === 'create') {
    for (const d of defs) {
      if (d.required && !(d.key in custom)) errors.push({ path: `custom.${d.key}`, message: 'is required' });
    }
  }
  return { errors, values };
}

// ------------------------------------------------------------------------------------ filters, sorts

const FIELD_TYPE: Record<CustomType, FieldType> = {
  text: 'string',
  email: 'string',
  url: 'string',
  phone: 'string',
  select: 'enum',
  multiselect: 'tags',
  number: 'number',
  currency: 'decimal',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
};

const CAST: Partial<Record<CustomType, string>> = {
  number: 'numeric', currency: 'numeric', boolean: 'boolean', date: 'date', datetime: 'timestamptz',
};

/** The JSON a filter value is stored as, for containment; undefined where containment cannot match. */
function storedJson(type: CustomType, v: string): unknown {
  switch (type) {
    case 'number':
      return Number(v);
    case 'boolean':
      return v === 'true';
    case 'email':
      return v.trim().toLowerCase();
    case 'currency': // "12.5" and "12.50" are one amount but two strings: compared as numeric instead
    case 'phone': // would need the region to normalise; compared as text instead
      return undefined;
    default:
      return v; // text, url, select, date, and datetime (the grammar hands it over as toISOString)
  }
}

/**
 * Index choice. One GIN (jsonb_path_ops) index on each entity's `custom` column serves eq, ne's
 * complement, in and every multiselect test for every key, present or future, because they compile
 * to containment: `custom @> '{"tier":"gold"}'`. Per-definition expression indexes would also serve
 * ranges and sorts, but cost DDL (and a table lock) on every definition change, and date/timestamptz
 * casts are not immutable, so they would need wrapper functions; ranges and sorts on custom fields are
 * therefore evaluated on the rows the other conditions leave (see the report / README).
 */
export function customFieldSpec(def: CustomDefinition, column: PgColumn): FieldSpec {
  // The key matched ^[a-z][a-z0-9_]{0,49}$ when the definition was made: safe as a literal, and a
  // literal (not a parameter) lets the planner match expression indexes should any be added.
  const key = sql.raw(`'${def.key}'`);
  const text = sql`(${column} ->> ${key})`;
  const cast = CAST[def.type];
  const expr = cast ? sql`(${text})::${sql.raw(cast)}` : text;
  const contains = (value: unknown): SQL => sql`${column} @> ${JSON.stringify({ [def.key]: value })}::jsonb`;
  const anyOf = (vs: unknown[]): SQL => sql`(${sql.join(vs.map(contains), sql` OR `)})`;

  if (def.type === 'multiselect') {
    return {
      expr: sql`(${column} -> ${key})`,
      type: 'tags',
      nullable: true,
      sortable: false,
      filterSql: (op, values) => {
        switch (op) {
          case 'eq':
          case 'contains':
            return contains([values[0]]);
          case 'in':
            return anyOf(values.map((v) => [v]));
          case 'nin':
            return sql`NOT ${anyOf(values.map((v) => [v]))}`;
          default: // isNull: absent or empty
            return values[0] === 'true'
              ? sql`coalesce(jsonb_array_length(${column} -> ${key}), 0) = 0`
              : sql`jsonb_array_length(${column} -> ${key}) > 0`;
        }
      },
    };
  }
  return {
    expr,
    type: FIELD_TYPE[def.type],
    nullable: true,
    sortable: true,
    values: def.type === 'select' ? def.options : undefined,
    filterSql: (op: FilterOp, values: string[]) => {
      const json = values.map((v) => storedJson(def.type, v));
      if (json.some((j) => j === undefined)) return undefined;
      if (op === 'eq') return contains(json[0]);
      if (op === 'in') return anyOf(json);
      // NOT containment is true where the key is absent too: ne/nin include nulls, as for fixed fields
      if (op === 'ne') return sql`NOT ${contains(json[0])}`;
      if (op === 'nin') return sql`NOT ${anyOf(json)}`;
      return undefined;
    },
  };
}

/** `custom.<key>` → FieldSpec for the given definitions; undefined for anything else (→ 400). */
export function customFieldLookup(defs: readonly CustomDefinition[], column: PgColumn): (name: string) => FieldSpec | undefined {
  const specs = new Map<string, FieldSpec>();
  for (const d of defs) specs.set(`custom.${d.key}`, customFieldSpec(d, column));
  return (name) => specs.get(name);
}

/** A row's sort values including `custom.<key>`, so cursors of custom sorts round-trip. */
export function withCustomSortValues<R extends { custom: Record<string, unknown> }>(row: R): CursorRow {
  const out: CursorRow = { ...row };
  for (const [k, v] of Object.entries(row.custom ?? {})) out[`custom.${k}`] = v;
  return out;
}
