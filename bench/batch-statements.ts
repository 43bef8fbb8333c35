import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { startTestApp } from '../test/helpers/app.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { nameOf } from './names.js';

// npx tsx bench/batch-statements.ts — where a contacts batch spends its database time: the statements
// one POST /v1/contacts/batch of BENCH_RECORDS upserts sends (new rows, then the same ids as updates),
// grouped by their SQL text, with counts and summed wall time as the driver sees it. In-process (inject),
// on a scratch database of TEST_DATABASE_URL's server. A profile, not a benchmark: read counts, not ms.

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1000);
const db = await createTestDatabase();
const stats = new Map<string, { n: number; ms: number }>();
const pool = (db.database.db as unknown as { $client: pg.Pool }).$client;
pool.on('connect', (conn) => {
  const query = conn.query.bind(conn) as (...a: unknown[]) => Promise<unknown>;
  conn.query = ((...args: unknown[]) => {
    const first = args[0];
    const text = (typeof first === 'string' ? first : (first as { text?: string }).text ?? '').replace(/\s+/g, ' ').replace(/\$\d+/g, '$').slice(0, 110);
    const s = performance.now();
    const done = () => {
      const e = stats.get(text) ?? { n: 0, ms: 0 };
      stats.set(text, { n: e.n + 1, ms: e.ms + performance.now() - s });
    };
    const r = query(...args);
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(done, done);
    return r;
  }) as typeof conn.query;
});
const h = await startTestApp({ db });
const admin = h.user('admin');
const contact = (i: number) => ({ ...nameOf(i), email: `c${i}@bench.test`, phone: `+9665${String(i).padStart(8, '0')}`, externalIds: { erp: `E-${i}` }, tags: ['bench'] });

async function run(label: string, records: Record<string, unknown>[]) {
  stats.clear();
  const s = performance.now();
  const res = await h.request({ method: 'POST', url: '/v1/contacts/batch', headers: admin.auth, payload: { operation: 'upsert', idProperty: 'externalId.erp', records } });
  const ms = performance.now() - s;
  const statuses = new Map<string, number>();
  for (const r of res.json().results as { status: string }[]) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  console.log(`\n== ${label}: ${res.statusCode} in ${Math.round(ms)} ms, ${JSON.stringify(Object.fromEntries(statuses))}`);
  const total = [...stats.values()].reduce((a, b) => a + b.n, 0);
  console.log(`${total} statements (${(total / records.length).toFixed(1)} per record)`);
  for (const [text, v] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(`${String(v.n).padStart(6)} ${v.ms.toFixed(0).padStart(7)} ms  ${text}`);
  }
}

await run('new', Array.from({ length: RECORDS }, (_, i) => contact(i)));
await run('same ids, changed', Array.from({ length: RECORDS }, (_, i) => ({ ...contact(i), jobTitle: 'Buyer' })));
await h.close();
await db.close();
