import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PGlite } from '@electric-sql/pglite';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../platform/db/client.js';
import { type CopyColumns, type Row, copyColumns, copyLine, copyStatement } from './copy-text.js';

// Bulk loading with COPY, the fastest way into PostgreSQL (DESIGN.md: ORM multi-row inserts run at
// 20–27 % of it): streamed through pg-copy-streams on a server, and as blobs of COPY text read from
// PGlite's /dev/blob on the embedded database, which has no COPY FROM STDIN.

export interface BulkWriter {
  /** Writes every row; `progress` hears how many were written since it was last called. Returns the count. */
  copy(table: PgTable, rows: Iterable<Row>, progress?: (n: number) => void): Promise<number>;
  /** runs a statement outside any transaction (ANALYZE, index rebuilds) */
  run(sql: string): Promise<void>;
  /** the rows of a query, for the few checks the seed makes */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  release(): Promise<void>;
}

const LINES_PER_CHUNK = 2_000;
const PGLITE_ROWS_PER_COPY = 20_000;

function columnsOf(table: PgTable, first: Row): CopyColumns {
  return copyColumns(table, Object.keys(first));
}

function assertSameKeys(c: CopyColumns, row: Row) {
  if (Object.keys(row).length !== c.keys.length) throw new Error(`${c.table}: rows of one table must have the same columns`);
}

async function* textChunks(rows: Iterable<Row>, table: PgTable) {
  let columns: CopyColumns | undefined;
  let text = '';
  let lines = 0;
  for (const row of rows) {
    columns ??= columnsOf(table, row);
    assertSameKeys(columns, row);
    text += copyLine(columns, row);
    if (++lines === LINES_PER_CHUNK) {
      yield { columns, text, lines };
      text = '';
      lines = 0;
    }
  }
  if (lines && columns) yield { columns, text, lines };
}

function postgresWriter(client: pg.PoolClient, timeoutBefore: string): BulkWriter {
  return {
    async copy(table, rows, progress) {
      const chunks = textChunks(rows, table);
      const first = await chunks.next();
      if (first.done) return 0;
      let count = 0;
      async function* all() {
        for (let c = first; !c.done; c = await chunks.next()) {
          count += c.value.lines;
          progress?.(c.value.lines);
          yield c.value.text;
        }
      }
      await pipeline(Readable.from(all()), client.query(copyFrom(copyStatement(first.value.columns, 'STDIN'))));
      return count;
    },
    async run(sql) {
      await client.query(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async release() {
      await client.query(`SET statement_timeout = '${timeoutBefore}'`);
      client.release();
    },
  };
}

function pgliteWriter(client: PGlite): BulkWriter {
  return {
    async copy(table, rows, progress) {
      let count = 0;
      let parts: string[] = [];
      let columns: CopyColumns | undefined;
      let pending = 0;
      const flush = async () => {
        if (!columns || pending === 0) return;
        await client.query(copyStatement(columns, "'/dev/blob'"), [], { blob: new Blob(parts) });
        progress?.(pending);
        parts = [];
        pending = 0;
      };
      for await (const chunk of textChunks(rows, table)) {
        columns = chunk.columns;
        parts.push(chunk.text);
        pending += chunk.lines;
        count += chunk.lines;
        if (pending >= PGLITE_ROWS_PER_COPY) await flush();
      }
      await flush();
      return count;
    },
    async run(sql) {
      await client.exec(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query<T>(sql, params)).rows;
    },
    async release() {},
  };
}

/**
 * A writer on the database the service uses. Drizzle keeps its driver client as `$client`: the pg
 * Pool (one connection is checked out for the whole load, without a statement timeout: a COPY of a
 * million rows runs for minutes) or the PGlite instance.
 */
export async function openBulkWriter(database: Database): Promise<BulkWriter> {
  const client = (database.db as unknown as { $client: pg.Pool | PGlite }).$client;
  if (database.kind === 'pglite') return pgliteWriter(client as PGlite);
  const connection = await (client as pg.Pool).connect();
  const before = (await connection.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout;
  await connection.query('SET statement_timeout = 0');
  return postgresWriter(connection, before);
}
