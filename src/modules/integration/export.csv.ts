import { z } from 'zod';
import { stringify } from 'csv-stringify/sync';

// Records → CSV (API.md §5b: headers are the JSON field names). The encoding is the one imports read
// (import.parse.ts), so an export whose columns are writable fields imports back unchanged:
//   - nested objects become one column per key: `address.city`, `custom.<key>` (the entity's defined
//     custom fields, in definition order);
//   - arrays of plain strings are `;`-joined (`vip;retail`); any other array, or a string list whose
//     items hold `;`, surrounding spaces or nothing, or which would start with `[`, is a JSON array;
//   - other objects (`externalIds`) are JSON in one column; an empty one is an empty cell;
//   - null is an empty cell; booleans `true`/`false`; numbers and decimal strings as written.
// Formula injection: a text cell a spreadsheet would run as a formula (starting with = + - @, tab or
// CR, and not a plain number such as -12.50 or +4930123456) gets a leading `'`; a text that already
// starts with quotes before such a character gets one more, so removing one `'` restores any value.

/** The leading characters that make Excel, LibreOffice and Google Sheets evaluate a cell. */
const FORMULA = /^'*[=+\-@\t\r]/;
const NUMBER = /^[+-]?\d+(\.\d+)?$/;
/** Byte order mark: Excel reads the file as UTF-8 only with it (Arabic and accented names). */
export const UTF8_BOM = '\uFEFF';

export interface Column {
  header: string;
  /** ['email'] or ['address', 'city'] */
  path: [string] | [string, string];
}

/** Unwraps nullable and optional to see whether a DTO field is an object with known keys. */
function objectKeys(schema: z.ZodType): string[] | undefined {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodNullable || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

/**
 * The CSV columns of a DTO: its `fields` (always starting with `id`), objects flattened one level,
 * `custom` as one column per defined key.
 */
export function columnsOf(dto: z.ZodObject, fields: readonly string[], customKeys: readonly string[]): Column[] {
  const columns: Column[] = [];
  for (const field of ['id', ...fields.filter((f) => f !== 'id')]) {
    const schema = dto.shape[field] as z.ZodType | undefined;
    if (!schema) continue;
    const keys = field === 'custom' ? customKeys : objectKeys(schema);
    if (keys) for (const key of keys) columns.push({ header: `${field}.${key}`, path: [field, key] });
    else columns.push({ header: field, path: [field] });
  }
  return columns;
}

const plainList = (v: unknown[]): v is string[] =>
  v.every((x) => typeof x === 'string' && x !== '' && !x.includes(';') && x.trim() === x) && !(typeof v[0] === 'string' && v[0].startsWith('['));

/** Neutralises a formula, reversibly (see above). */
export function guardFormula(text: string): string {
  return FORMULA.test(text) && !NUMBER.test(text) ? `'${text}` : text;
}

/** One JSON value → its cell text. */
export function cellOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return guardFormula(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? '' : plainList(v) ? guardFormula(v.join(';')) : JSON.stringify(v);
  if (typeof v === 'object' && Object.keys(v).length === 0) return '';
  return JSON.stringify(v);
}

function valueAt(record: Record<string, unknown>, path: Column['path']): unknown {
  const v = record[path[0]];
  if (path.length === 1) return v;
  return v && typeof v === 'object' ? (v as Record<string, unknown>)[path[1]] : undefined;
}

/** CSV text of some records (with the header line first when `header`), CRLF line ends (RFC 4180). */
export function csvChunk(columns: readonly Column[], records: readonly object[], header: boolean): string {
  const rows = records.map((r) => columns.map((c) => cellOf(valueAt(r as Record<string, unknown>, c.path))));
  if (header) rows.unshift(columns.map((c) => c.header));
  return rows.length ? stringify(rows, { record_delimiter: 'windows' }) : '';
}
