import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';

// Every analytics statement runs in its own read-only transaction with settings for reports over
// hundreds of thousands of rows. JIT off: PostgreSQL compiles plans costlier than jit_above_cost, and
// the compilation took 2.8 s of a 4.2 s forecast statement on the benchmark machine (its work is
// milliseconds of index probes); these statements never run long enough for JIT to pay. A larger
// work_mem keeps their sorts and hash aggregates (percentiles, distinct customers) in memory.
// random_page_cost 1.1 (the server's default is 4, a spinning disk's): the figures' tables and their
// covering indexes are read from memory or SSD, and at 4 the planner chose a parallel scan of the
// 149 MB deals table (19 022 pages) over an index-only scan of a 39 MB covering index (5 030 pages).

const SETTINGS = sql`SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true), set_config('random_page_cost', '1.1', true)`;

/** `db` with every `execute` wrapped as above; only `execute` is used by the analytics repositories. */
export function analyticsExecutor(db: Executor): Executor {
  const execute = (query: SQL) => db.transaction(async (tx) => {
    await tx.execute(SETTINGS);
    return tx.execute(query);
  }, { accessMode: 'read only' });
  // The proxy's target is a stand-in, not db: modules are also built without a database (the schema
  // test, the worker list), and a Proxy needs an object; db is only touched when a statement runs.
  return new Proxy({} as Executor, {
    get(_standIn, prop, receiver) {
      if (prop === 'execute') return execute;
      return Reflect.get(db as object, prop, receiver) as unknown;
    },
  });
}
