import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Executor } from '../../platform/db/client.js';
import type { ParsedRow } from './import.parse.js';
import * as repo from './import.repository.js';

// Storing an upload's rows. On PostgreSQL they stream into import_rows with COPY: one statement for
// the whole file, a few µs a row on the server where a multi-row INSERT over jsonb_array_elements
// costs ~0.2 ms, and back-pressure from the socket to the request (the parser is paused while the
// database is behind), so memory stays flat whatever the file's size. PGlite has no COPY FROM STDIN
// through pg-copy-streams: there the rows go in multi-row INSERTs of INSERT_ROWS.

/** rows per multi-row INSERT (PGlite) */
const INSERT_ROWS = 1000;
/** rows per COPY statement */
const COPY_ROWS = 20_000;
/** COPY text is sent in pieces of about this many characters (fewer, larger socket writes) */
const PIECE_CHARS = 64 * 1024;

/** The pg connection of a drizzle transaction on PostgreSQL; undefined on PGlite. */
function pgClientOf(tx: Executor): pg.PoolClient | undefined {
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client as pg.PoolClient | undefined;
  return client && typeof (client as { release?: unknown }).release === 'function' ? client : undefined;
}

/** One row as a COPY text line: the JSON never holds a raw tab or newline, so only backslashes need escaping. */
const copyLine = (importId: string, r: ParsedRow) => `${importId}\t${r.rowNo}\t${JSON.stringify(r.data).replace(/\\/g, '\\\\')}\n`;

/** The next `max` rows of `it` as COPY text pieces; `last` follows the rows taken, `done` says the rows ran out. */
async function* copyText(importId: string, it: AsyncIterator<ParsedRow>, max: number, last: { rowNo: number; done: boolean }) {
  let piece = '';
  for (let n = 0; n < max; n++) {
    const next = await it.next();
    if (next.done) {
      last.done = true;
      break;
    }
    last.rowNo = next.value.rowNo;
    piece += copyLine(importId, next.value);
    if (piece.length >= PIECE_CHARS) {
      yield piece;
      piece = '';
    }
  }
  if (piece) yield piece;
}

/**
 * Stores the rows of an import inside the caller's transaction (the job's), in file order. Answers
 * the number of the last row (0 for none). A parse error thrown by `rows` aborts the COPY, and the
 * caller's transaction then rolls back the job with whatever was stored. One COPY per COPY_ROWS rows:
 * each is a statement under the usual statement timeout, which a client stalling mid-file then meets.
 */
export async function storeRows(tx: Executor, importId: string, rows: AsyncIterable<ParsedRow>): Promise<number> {
  const client = pgClientOf(tx);
  if (!client) return insertRows(tx, importId, rows);
  const it = rows[Symbol.asyncIterator]();
  const last = { rowNo: 0, done: false };
  while (!last.done) {
    await pipeline(Readable.from(copyText(importId, it, COPY_ROWS, last)), client.query(copyFrom('COPY import_rows (import_id, row_no, data) FROM STDIN')));
  }
  return last.rowNo;
}

async function insertRows(tx: Executor, importId: string, rows: AsyncIterable<ParsedRow>): Promise<number> {
  let buffer: ParsedRow[] = [];
  let last = 0;
  for await (const r of rows) {
    buffer.push(r);
    last = r.rowNo;
    if (buffer.length >= INSERT_ROWS) {
      await repo.insertRows(tx, importId, buffer);
      buffer = [];
    }
  }
  await repo.insertRows(tx, importId, buffer);
  return last;
}
