import { type ChildProcess, fork } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import pg from 'pg';
import { connectPostgres } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrations.js';
import { importCsvChunks } from './names.js';

// npm run bench:import — a contacts CSV import of BENCH_IMPORT_ROWS rows (default 100 000) against the
// service in its own process on a scratch PostgreSQL database (BENCH_DATABASE_URL's server, dropped
// after): the upload streamed (this script never holds the file), then the job polled until it ends or
// BENCH_APPLY_SECONDS (default: no limit) pass. Reports rows/s of upload and apply, the server's peak
// RSS in each phase, and the CPU seconds the server process and the database's backends spent, which
// say more than wall time on a shared machine. BENCH_BUILT=1 runs dist/server.js (npm run build first).
// BENCH_DATABASE=<name> imports into that existing database (migrated, kept: a 1 M copy, where index
// maintenance costs what it costs at scale), with a run tag in the emails so every row creates.
// The server's peak RSS is also read from the kernel (VmHWM, the high-water mark, no sampling gap).
// BENCH_CPU_PROF=<dir> writes the server's CPU profile there.

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const APPLY_SECONDS = Number(process.env.BENCH_APPLY_SECONDS ?? Infinity);
const SECRET = 'bench-secret-0123456789-0123456789-abcdef';
const PORT = Number(process.env.BENCH_PORT ?? 4112);
const BASE = `http://127.0.0.1:${PORT}`;
const TICK = 100; // USER_HZ (clock ticks a second in /proc/<pid>/stat) on Linux

const urlFor = (name: string) => Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function token(): string {
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    sub: randomUUID(), role: 'admin', teamIds: [], iss: 'headless-crm', aud: 'headless-crm-api', exp: Math.floor(Date.now() / 1000) + 7200,
  })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

async function admin<T extends pg.QueryResultRow>(sql: string, url = ADMIN_URL): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const [script, loader] = process.env.BENCH_BUILT ? ['dist/server.js', []] : ['src/server.ts', ['--import', 'tsx']];
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it exits
  if (process.env.BENCH_CPU_PROF) loader.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`);
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { env: { ...process.env, ...env }, execArgv: loader, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    const ping = setInterval(async () => {
      try {
        if ((await fetch(`${BASE}/health`)).status < 500) {
          clearInterval(ping);
          child.removeAllListeners('exit');
          resolve(child);
        }
      } catch { /* not up yet */ }
    }, 200);
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** user + system CPU seconds of a process (0 once it is gone) */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return 0;
  }
}

/** Peak RSS of the server and CPU of the database's backends (each backend's last reading, summed), sampled. */
function sampler(pid: number, dbName: string) {
  let peak = rssMb(pid);
  const backends = new Map<number, { first: number; last: number }>();
  let busy = false;
  const timer = setInterval(async () => {
    peak = Math.max(peak, rssMb(pid));
    if (busy) return;
    busy = true;
    try {
      for (const { pid: b } of await admin<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = '${dbName}'`)) {
        const s = cpuSeconds(b);
        const e = backends.get(b);
        if (e) e.last = Math.max(e.last, s);
        else backends.set(b, { first: s, last: s });
      }
    } catch { /* a sample missed */ } finally {
      busy = false;
    }
  }, 250);
  const serverCpu0 = cpuSeconds(pid);
  return {
    stop() {
      clearInterval(timer);
      const db = [...backends.values()].reduce((a, b) => a + b.last - b.first, 0);
      return { peakRssMb: Math.round(Math.max(peak, rssMb(pid))), serverCpuS: +(cpuSeconds(pid) - serverCpu0).toFixed(1), dbCpuS: +db.toFixed(1) };
    },
  };
}


type Job = { status: string; processed: number; created: number; failed: number };

async function run(pid: number, dbName: string) {
  const auth = { authorization: `Bearer ${token()}` };
  const start = rssMb(pid);
  let mem = sampler(pid, dbName);
  const t0 = performance.now();
  const res = await fetch(`${BASE}/v1/imports?entity=contacts&idProperty=email`, {
    method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: Readable.toWeb(Readable.from(importCsvChunks(ROWS, RUN))) as ReadableStream, duplex: 'half',
  } as RequestInit);
  if (res.status !== 202) throw new Error(`import answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  const uploadMs = performance.now() - t0;
  const upload = mem.stop();
  mem = sampler(pid, dbName);
  const t1 = performance.now();
  let job: Job;
  /** the server's RSS every 5 s of applying: flat, or growing with the rows applied */
  const rssEvery5s: number[] = [];
  for (let polls = 0; ; polls++) {
    await new Promise((r) => setTimeout(r, 500));
    if (polls % 10 === 0) rssEvery5s.push(Math.round(rssMb(pid)));
    job = (await (await fetch(`${BASE}/v1/imports/${id}`, { headers: auth })).json()) as Job;
    if (job.status === 'completed' || job.status === 'failed' || performance.now() - t1 > APPLY_SECONDS * 1000) break;
  }
  const applyMs = performance.now() - t1;
  const apply = mem.stop();
  return {
    rows: ROWS, rssStartMb: Math.round(start),
    upload: { ms: Math.round(uploadMs), rowsPerS: Math.round(ROWS / (uploadMs / 1000)), ...upload },
    apply: { ms: Math.round(applyMs), applied: job.processed, rowsPerS: Math.round(job.processed / (applyMs / 1000)), ...apply, rssEvery5s },
    job, serverVmHwmMb: Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024),
  };
}

const EXISTING = process.env.BENCH_DATABASE;
const dbName = EXISTING ?? `crm_bench_import_${Date.now()}`;
const RUN = EXISTING ? `-${Date.now().toString(36)}` : '';
if (!EXISTING) await admin(`CREATE DATABASE ${dbName}`);
let server: ChildProcess | undefined;
let result: Awaited<ReturnType<typeof run>> | undefined;
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
try {
  const database = connectPostgres({ url: urlFor(dbName), poolMax: 2, statementTimeoutMs: 600_000 });
  await runMigrations(database);
  await database.close();
  server = await startServer({
    DATABASE_URL: urlFor(dbName), NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000000',
    PORT: String(PORT), HOST: '127.0.0.1', MAX_EVENT_LOOP_DELAY_MS: '0',
  });
  result = await run(server.pid!, dbName);
} finally {
  if (server) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (!EXISTING) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
const out = { at: new Date().toISOString(), server: process.env.BENCH_BUILT ? 'compiled (dist/server.js)' : 'tsx (src/server.ts)', loadavg: { before: loadBefore, after: loadavg().map((l) => l.toFixed(2)).join(' ') }, ...result };
console.log(JSON.stringify(out, null, 2));
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/${new Date().toISOString().slice(0, 16).replace(':', '')}-import.json`;
writeFileSync(file, JSON.stringify(out, null, 2));
console.log(`wrote ${file}`);
