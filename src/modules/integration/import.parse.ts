import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as csvParser, CsvError } from 'csv-parse';
import { AppError, validationFailed } from '../../platform/errors/app-error.js';
import type { FieldError } from '../../platform/errors/app-error.js';
import { type ColumnKind, type EntitySpec, IMPORT_MAX_BYTES } from './import.schema.js';

// Upload → rows, streaming: at most one record (≤ MAX_RECORD_CHARS) is held besides the caller's chunk.
// File-level faults (unknown header, broken CSV quoting, an endless line) are 400s; a row's own
// fault (bad JSON, wrong cell count) travels with the row as ROW_ERROR and becomes that row's error.

/** a parsed row carrying this key failed to parse; the worker reports it as the row's error */
export const ROW_ERROR = '$error';
const MAX_RECORD_CHARS = 1024 * 1024;
/** PostgreSQL text and jsonb cannot hold U+0000: such a row is refused, not the whole file */
const NUL_MESSAGE = 'contains a NUL character (U+0000), which cannot be stored';

/** the upload as it arrives (a request stream), or whole (GraphQL's inline content) */
export type Content = AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

export interface ParsedRow {
  /** 1 = the first data row; blank lines are not counted */
  rowNo: number;
  data: Record<string, unknown>;
}

/** What a header may name: the entity's columns and the custom fields defined for it (key → type). */
export interface HeaderContext {
  entity: string;
  spec: EntitySpec;
  idProperty: string;
  custom: Map<string, string>;
}

const tooLarge = () => new AppError('payload_too_large', `An import file may have at most ${IMPORT_MAX_BYTES} bytes`);

async function* limited(source: Content, max: number): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const c of source) {
    const buf = typeof c === 'string' ? Buffer.from(c) : c;
    bytes += buf.length;
    if (bytes > max) throw tooLarge();
    yield buf;
  }
}

interface Column {
  header: string;
  /** where the value goes: ['email'] or ['address', 'city'] */
  path: [string] | [string, string];
  kind: ColumnKind;
}

const CUSTOM_KINDS: Record<string, ColumnKind> = { number: 'number', boolean: 'boolean', multiselect: 'list' };

function columnOf(h: string, c: HeaderContext): Column | string {
  const { spec } = c;
  if (h === 'id') return c.idProperty === 'id' ? { header: h, path: [h], kind: 'text' } : 'only with idProperty=id';
  const relation = spec.relations[h];
  if (relation) return { header: h, path: [h], kind: relation === 'contactIds' ? 'list' : 'text' };
  const kind = spec.columns[h];
  if (kind) return { header: h, path: [h], kind };
  const dot = h.indexOf('.');
  const [field, key] = dot > 0 ? [h.slice(0, dot), h.slice(dot + 1)] : [h, ''];
  if (!key || spec.columns[field] !== 'object') return `is not a field of ${c.entity}`;
  if (field === 'custom') {
    const type = c.custom.get(key);
    return type ? { header: h, path: [field, key], kind: CUSTOM_KINDS[type] ?? 'text' } : 'is not a defined custom field';
  }
  const keys = spec.objectKeys?.[field];
  if (keys && !keys.includes(key)) return `is not a key of ${field} (${keys.join(', ')})`;
  return { header: h, path: [field, key], kind: 'text' };
}

/** The header row → columns, or a 400 naming every header that is not a field (nothing is stored). */
export function columnsOf(headers: string[], c: HeaderContext): Column[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const columns: Column[] = [];
  for (const raw of headers) {
    const h = raw.trim();
    if (!h) errors.push({ path: '(header)', message: 'a column has no name' });
    else if (seen.has(h)) errors.push({ path: h, message: 'appears twice in the header' });
    else {
      const col = columnOf(h, c);
      if (typeof col === 'string') errors.push({ path: h, message: col });
      else columns.push(col);
    }
    seen.add(h);
  }
  const key = c.spec.keyColumn(c.idProperty);
  if (c.idProperty !== 'id' && !seen.has(key) && !seen.has(key.split('.')[0] as string)) {
    errors.push({ path: key, message: `the column is needed to match rows by ${c.idProperty}` });
  }
  if (errors.length) throw validationFailed(errors, 'The CSV header names columns that cannot be imported');
  return columns;
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };

/** A non-empty cell → its JSON value; an Error for a cell that must be JSON and is not. */
function cellValue(kind: ColumnKind, cell: string): unknown {
  const t = cell.trim();
  switch (kind) {
    case 'text':
      return cell;
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : cell;
    case 'boolean':
      return BOOLEANS[t.toLowerCase()] ?? cell;
    case 'list':
      return t.startsWith('[') ? jsonOf(t) : t.split(';').map((s) => s.trim()).filter(Boolean);
    case 'json':
    case 'object':
      return jsonOf(t);
  }
}

function jsonOf(t: string): unknown {
  try {
    return JSON.parse(t);
  } catch {
    return new Error('is not valid JSON');
  }
}

/** One CSV record → the row's JSON object (empty cells are absent), or its error. */
export function rowOf(columns: Column[], cells: string[]): Record<string, unknown> {
  if (cells.length !== columns.length) return { [ROW_ERROR]: `has ${cells.length} cells; the header has ${columns.length}` };
  if (cells.some((x) => x.includes('\u0000'))) return { [ROW_ERROR]: NUL_MESSAGE };
  const data: Record<string, unknown> = {};
  const problems: string[] = [];
  columns.forEach((col, i) => {
    const cell = cells[i] as string;
    if (!cell.trim()) return;
    const v = cellValue(col.kind, cell);
    if (v instanceof Error) return void problems.push(`${col.header}: ${v.message}`);
    const [field, key] = col.path;
    if (key === undefined) data[field] = v;
    else {
      const obj = (data[field] ?? {}) as Record<string, unknown>;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return void problems.push(`${col.header}: ${field} is also given whole`);
      data[field] = { ...obj, [key]: v };
    }
  });
  return problems.length ? { [ROW_ERROR]: problems.join('; ') } : data;
}

function csvFault(e: unknown): unknown {
  if (!(e instanceof CsvError)) return e;
  return validationFailed([{ path: 'body', message: e.message }], 'The CSV cannot be read; nothing was imported');
}

/** CSV rows: quotes, embedded newlines, CRLF, a BOM; blank lines skipped. The first record is the header. */
export async function* csvRows(source: Content, c: HeaderContext): AsyncGenerator<ParsedRow> {
  const parser = csvParser({ bom: true, skip_empty_lines: true, relax_column_count: true, max_record_size: MAX_RECORD_CHARS });
  pipeline(Readable.from(limited(source, IMPORT_MAX_BYTES)), parser, () => undefined);
  let columns: Column[] | undefined;
  let rowNo = 0;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      if (!columns) {
        columns = columnsOf(cells, c);
        continue;
      }
      if (cells.every((x) => !x.trim())) continue; // `,,,`: a blank line of a spreadsheet
      yield { rowNo: ++rowNo, data: rowOf(columns, cells) };
    }
  } catch (e) {
    throw csvFault(e);
  }
  if (!columns) throw validationFailed([{ path: 'body', message: 'the file is empty: the first line must name the columns' }]);
}

/** NDJSON rows: one JSON object per line; blank lines skipped; a line that is not an object is that row's error. */
export async function* ndjsonRows(source: Content): AsyncGenerator<ParsedRow> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let rowNo = 0;
  let first = true;
  const rowOfLine = (line: string): ParsedRow | undefined => {
    const text = first ? line.replace(/^\uFEFF/, '') : line;
    first = false;
    if (!text.trim()) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return { rowNo: ++rowNo, data: { [ROW_ERROR]: 'is not valid JSON' } };
    }
    if (text.includes('\\u0000') || text.includes('\u0000')) return { rowNo: ++rowNo, data: { [ROW_ERROR]: NUL_MESSAGE } };
    const ok = typeof v === 'object' && v !== null && !Array.isArray(v);
    return { rowNo: ++rowNo, data: ok ? (v as Record<string, unknown>) : { [ROW_ERROR]: 'is not a JSON object' } };
  };
  for await (const chunk of limited(source, IMPORT_MAX_BYTES)) {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() as string;
    if (rest.length > MAX_RECORD_CHARS) {
      throw validationFailed([{ path: 'body', message: `row ${rowNo + 1} is longer than ${MAX_RECORD_CHARS} characters` }]);
    }
    for (const line of lines) {
      const row = rowOfLine(line);
      if (row) yield row;
    }
  }
  const row = rowOfLine(rest + decoder.end());
  if (row) yield row;
}
