import { stringify } from 'csv-stringify/sync';
import { UTF8_BOM, guardFormula } from '../integration/index.js';
import { type Cell, toTable } from './tabular.js';

// ?format=csv: the response's table (tabular.ts, long form) with a header line of dotted column names,
// encoded like the exports: UTF-8 with a BOM (so spreadsheets read Arabic names), CRLF, null as an empty
// cell, text that a spreadsheet would run as a formula prefixed with '.

const cell = (v: Cell | undefined): string => (v === null || v === undefined ? '' : typeof v === 'string' ? guardFormula(v) : String(v));

export function toCsv(response: unknown): string {
  const { columns, rows } = toTable(response, 'long');
  const records = rows.map((r) => columns.map((c) => cell(r.get(c))));
  return UTF8_BOM + stringify([columns, ...records], { record_delimiter: 'windows' });
}
