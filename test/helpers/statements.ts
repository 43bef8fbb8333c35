import type pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import type { Database } from '../../src/platform/db/client.js';

// Counts the SQL statements the app sends, for the no-N+1 tests. Counted at the driver, below drizzle,
// on the very client objects the app uses:
//  - PostgreSQL: `database.db.$client` is the app's pg.Pool. A 'connect' listener, installed before the
//    app opens any connection, wraps `query` on every physical connection the pool creates, so every
//    statement sent by pool.query() and by checked-out clients (transactions) is counted exactly once.
//  - PGlite: `$client` is the one PGlite instance; drizzle sends every statement through its `query`
//    (and raw SQL through `exec`), so both are wrapped on the instance.
// pg_stat_statements would count on the server, but it is not available on every test server.
// Install it before building the app on the database.

/** `ignored`: the statements `ignore` matched, kept apart so a test can still bound them. */
export type StatementCounter = <T>(fn: () => Promise<T>) => Promise<{ result: T; statements: number; ignored: number }>;

/** `ignore`: statements not to count, by their SQL text (e.g. a cached lookup that may refill any time). */
export function countStatements(database: Database, o: { ignore?: (sql: string) => boolean } = {}): StatementCounter {
  let n = 0;
  let skipped = 0;
  const count = (first: unknown) => {
    const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text ?? '';
    if (o.ignore?.(text)) skipped++;
    else n++;
  };
  const client = (database.db as unknown as { $client: unknown }).$client;
  if (database.kind === 'postgres') {
    (client as pg.Pool).on('connect', (conn) => {
      const query = conn.query.bind(conn) as (...a: unknown[]) => unknown;
      conn.query = ((...args: unknown[]) => {
        count(args[0]);
        return query(...args);
      }) as typeof conn.query;
    });
  } else {
    const lite = client as PGlite;
    for (const method of ['query', 'exec'] as const) {
      const original = lite[method].bind(lite) as (...a: unknown[]) => Promise<unknown>;
      (lite as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        count(args[0]);
        return original(...args);
      };
    }
  }
  return async (fn) => {
    const start = n;
    const skippedBefore = skipped;
    const result = await fn();
    return { result, statements: n - start, ignored: skipped - skippedBefore };
  };
}
