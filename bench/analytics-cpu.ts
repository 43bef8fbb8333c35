import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { passwordOf } from '../src/seed/people-accounts.js';
import { recordQueries } from './explain.js';

// CPU per call of analytics endpoints, the figure that does not depend on the neighbours' load: the
// service's own code runs in this process (app.inject, no workers, so nothing else runs in it) and
// its CPU comes from process.cpuUsage; PostgreSQL's from /proc/<pid>/stat of the backends of the
// process's pool (the pool is warmed first so they exist), plus the postmaster's reaped children
// (parallel workers; on a shared server that also counts the neighbours' exited workers, so the
// database should run with max_parallel_workers_per_gather = 0 for a clean figure). Also the wall
// clock (load-dependent) and the statements per call.
// Usage: tsx bench/analytics-cpu.ts DATABASE_URL account runs PATH...

const [url, account = 'admin', runsArg = '3', ...paths] = process.argv.slice(2) as [string, string?, string?, ...string[]];
const runs = Number(runsArg);
const env = { NODE_ENV: 'production', JWT_SECRET: 'analytics-cpu-secret-0123456789abcdef', LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '1000000', DATABASE_STATEMENT_TIMEOUT_MS: '600000' };
const { loadConfig } = await import('../src/config.js');
const { buildApp } = await import('../src/app.js');
const { connectPostgres } = await import('../src/platform/db/client.js');

const POOL = 4;
const database = connectPostgres({ url, poolMax: POOL, statementTimeoutMs: 600_000 });
const app = await buildApp({ config: loadConfig({ ...env, DATABASE_URL: url }), database, startWorkers: false });
await app.ready();
const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: `${account}@crm.example`, password: passwordOf(1, account) } });
const token = (login.json() as { accessToken: string }).accessToken;
if (!token) throw new Error(`login: ${login.statusCode} ${login.body}`);

const TICK_MS = 10; // USER_HZ 100
const ticks = (pid: number): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime
  } catch {
    return 0;
  }
};
const reaped = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[13]) + Number(f[14]); // cutime, cstime
};
// the pool's backends: hold POOL connections at once, each reports its pid
const backends = new Set<number>();
await Promise.all(Array.from({ length: POOL }, async () => {
  const r = await database.db.execute(sql`SELECT pg_backend_pid() AS pid, pg_sleep(0.2)`) as unknown as { rows: { pid: number }[] };
  backends.add(Number(r.rows[0]!.pid));
}));
// the postmaster: the parent of any backend
const postmaster = Number(readFileSync(`/proc/${[...backends][0]}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`account ${account}, backends ${[...backends].join(',')}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log('path\tstatus\twall ms (median)\tserver CPU ms\tpostgres CPU ms\tparallel workers CPU ms\tstatements');
for (const path of paths) {
  const wall: number[] = [], server: number[] = [], pgCpu: number[] = [], workers: number[] = [];
  let status = 0, statements = 0;
  for (let i = 0; i < runs; i++) {
    const pg0 = [...backends].reduce((n, p) => n + ticks(p), 0);
    const w0 = postmaster ? reaped(postmaster) : 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { value: res, queries } = await recordQueries(() => app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } }));
    wall.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    server.push((cpu.user + cpu.system) / 1000);
    pgCpu.push(([...backends].reduce((n, p) => n + ticks(p), 0) - pg0) * TICK_MS);
    workers.push(((postmaster ? reaped(postmaster) : 0) - w0) * TICK_MS);
    status = res.statusCode;
    statements = queries.length;
    // with TOP=n, the call's n slowest statements (first run only): where a composite call spends its time
    if (i === 0 && process.env.TOP) {
      for (const q of [...queries].sort((a, b) => b.ms - a.ms).slice(0, Number(process.env.TOP))) {
        console.log(`   ${Math.round(q.ms)} ms  ${q.text.replace(/\s+/g, ' ').slice(0, 150)}`);
      }
    }
  }
  console.log(`${path}\t${status}\t${Math.round(median(wall))}\t${Math.round(median(server))}\t${Math.round(median(pgCpu))}\t${Math.round(median(workers))}\t${statements}`);
}
await app.close();
await database.close();
