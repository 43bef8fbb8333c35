import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { startTestApp } from '../test/helpers/app.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { createModules } from '../src/app.js';
import type { Executor } from '../src/platform/db/client.js';
import type { CustomerServices } from '../src/modules/customer/index.js';
import type { PipelineServices } from '../src/modules/pipeline/index.js';
import { createImportService } from '../src/modules/integration/import.service.js';
import { importCsvChunks } from './names.js';

// npx tsx bench/import-statements.ts — where a contacts CSV import spends its database time: the
// statements the upload and the worker send for BENCH_IMPORT_ROWS rows, grouped by SQL text, with
// counts and summed wall time as the driver sees it, and this process's CPU time per phase.
// In-process (inject) on a scratch database of TEST_DATABASE_URL's server (PGlite without it).
// A profile, not a benchmark: read counts and CPU, not ms, on a shared machine. Background workers
// are off here (the test app's default), so the CPU is the import's own: this process and the pool's backends.

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 10_000);
const db = await createTestDatabase();
const stats = new Map<string, { n: number; ms: number }>();
const pool = (db.database.db as unknown as { $client: pg.Pool }).$client;
/** the pool's PostgreSQL backends: their CPU (from /proc, same machine) is the database's share of a phase */
const backends = new Set<number>();
const backendCpuMs = () => [...backends].reduce((sum, pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return sum + (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch {
    return sum;
  }
}, 0);
if (db.database.kind === 'postgres') {
  pool.on('connect', (conn) => {
    void conn.query('SELECT pg_backend_pid() AS pid').then((r) => backends.add(r.rows[0].pid), () => undefined);
    const query = conn.query.bind(conn) as (...a: unknown[]) => unknown;
    conn.query = ((...args: unknown[]) => {
      const first = args[0];
      const text = (typeof first === 'string' ? first : (first as { text?: string }).text ?? 'COPY stream')
        .replace(/\s+/g, ' ').replace(/\$\d+/g, '$').slice(0, 110);
      const s = performance.now();
      const done = () => {
        const e = stats.get(text) ?? { n: 0, ms: 0 };
        stats.set(text, { n: e.n + 1, ms: e.ms + performance.now() - s });
      };
      const r = query(...args);
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(done, done);
      else if (r && typeof (r as NodeJS.EventEmitter).once === 'function') (r as NodeJS.EventEmitter).once('finish', done).once('error', done);
      return r;
    }) as typeof conn.query;
  });
}
const h = await startTestApp({ db });
const admin = h.user('admin');
const x = h.db.database.db as Executor;
const { all } = createModules({ config: h.config, db: x, signAccessToken: (c) => h.app.jwt.sign(c) });
const [, customer, pipeline] = all as unknown as [unknown, { services: CustomerServices }, { services: PipelineServices }];
const imports = createImportService({ db: x, customer: customer.services, pipeline: pipeline.services });


function report(label: string, ms: number, cpu: NodeJS.CpuUsage, dbCpu: number) {
  const total = [...stats.values()].reduce((a, b) => a + b.n, 0);
  console.log(`\n== ${label}: ${Math.round(ms)} ms wall, node CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms, database CPU ${dbCpu} ms, ${total} statements`);
  for (const [text, v] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
    console.log(`${String(v.n).padStart(6)} ${v.ms.toFixed(0).padStart(7)} ms  ${text}`);
  }
  stats.clear();
}

let s = performance.now();
let cpu = process.cpuUsage();
let dbCpu = backendCpuMs();
const res = await h.request({
  method: 'POST', url: '/v1/imports?entity=contacts&idProperty=email',
  headers: { ...admin.auth, 'content-type': 'text/csv' }, payload: Readable.from(importCsvChunks(ROWS)),
});
if (res.statusCode !== 202) throw new Error(res.body);
report(`upload of ${ROWS} rows`, performance.now() - s, process.cpuUsage(cpu), backendCpuMs() - dbCpu);
s = performance.now();
cpu = process.cpuUsage();
dbCpu = backendCpuMs();
while ((await imports.runDue(x)) > 0);
report(`apply of ${ROWS} rows`, performance.now() - s, process.cpuUsage(cpu), backendCpuMs() - dbCpu);
const job = (await h.request({ method: 'GET', url: `/v1/imports/${res.json().id}`, headers: admin.auth })).json();
console.log(JSON.stringify({ status: job.status, created: job.created, updated: job.updated, failed: job.failed, errors: job.errors.slice(0, 3) }));
await h.close();
await db.close();
