import { getTableColumns } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig } from 'drizzle-orm/pg-core';

// Rows as PostgreSQL's COPY text format: tab-separated, \N for null, backslash escapes. Values are
// rendered by the column's SQL type, so a text[] gets an array literal and a jsonb a JSON document.

export type Row = Record<string, unknown>;

export interface CopyColumns {
  table: string;
  /** property names of the drizzle table, in COPY order */
  keys: string[];
  /** SQL column names, in the same order */
  names: string[];
  render: ((v: unknown) => string)[];
}

const escapeCopy = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));

const arrayElement = (v: unknown) => `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function rendererOf(column: PgColumn): (v: unknown) => string {
  const type = column.getSQLType();
  if (type.endsWith('[]')) return (v) => escapeCopy(`{${(v as unknown[]).map(arrayElement).join(',')}}`);
  if (type === 'jsonb' || type === 'json') return (v) => escapeCopy(JSON.stringify(v));
  if (type.startsWith('timestamp')) return (v) => (v instanceof Date ? v : new Date(v as number)).toISOString();
  if (type === 'boolean') return (v) => (v ? 't' : 'f');
  return (v) => escapeCopy(String(v));
}

/** The COPY column list of a table for rows with these keys; an unknown key is a generator bug. */
export function copyColumns(table: PgTable, keys: string[]): CopyColumns {
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const unknown = keys.filter((k) => !columns[k]);
  if (unknown.length) throw new Error(`${getTableConfig(table).name} has no column ${unknown.join(', ')}`);
  return {
    table: getTableConfig(table).name,
    keys,
    names: keys.map((k) => columns[k]!.name),
    render: keys.map((k) => rendererOf(columns[k]!)),
  };
}

export function copyLine(c: CopyColumns, row: Row): string {
  let line = '';
  for (let i = 0; i < c.keys.length; i++) {
    const v = row[c.keys[i]!];
    line += (i ? '\t' : '') + (v === null || v === undefined ? '\\N' : c.render[i]!(v));
  }
  return `${line}\n`;
}

export const copyStatement = (c: CopyColumns, source: string) =>
  `COPY ${c.table} (${c.names.map((n) => `"${n}"`).join(', ')}) FROM ${source}`;
