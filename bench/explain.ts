import pg from 'pg';

// To show where the slowest analytics endpoint spends its time, the bench runs it once in its own
// process and records every SQL statement with its parameters and duration. pg.Client's query is
// wrapped for that one request: drizzle offers a logger, but not the timing, and the service's
// database client does not expose one. The slowest statement is then run under EXPLAIN ANALYZE.

interface Recorded { text: string; values: unknown[]; ms: number }

export async function recordQueries<T>(work: () => Promise<T>): Promise<{ value: T; queries: Recorded[] }> {
  const queries: Recorded[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function wrapped(this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string; values?: unknown[] };
    const text = typeof config === 'string' ? config : config?.text;
    const values = (Array.isArray(args[1]) ? args[1] : typeof config === 'object' ? config?.values : undefined) ?? [];
    const started = performance.now();
    const done = () => { if (text) queries.push({ text, values, ms: performance.now() - started }); };
    // pg.Pool#query calls the client with a callback (no promise back); drizzle's sessions await a promise
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (...r: unknown[]) => unknown;
      args[last] = (...r: unknown[]) => { done(); return callback(...r); };
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, () => undefined);
    return result;
  };
  try {
    return { value: await work(), queries };
  } finally {
    proto.query = original;
  }
}

export async function explainAnalyze(url: string, q: Recorded): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // the settings the analytics module runs its statements with (src/modules/analytics/analytics-db.ts)
    await c.query(`SET jit = off; SET work_mem = '64MB'; SET random_page_cost = 1.1`);
    const rows = (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${q.text}`, q.values)).rows;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await c.end();
  }
}
