import { type ChildProcess, fork } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { connectPostgres } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrations.js';
import { importCsvChunks, nameOf } from './names.js';
import { freePort } from './servers.js';

// npm run bench:write-paths — the write and import paths of issue #11, over HTTP against the service
// in its own process on real PostgreSQL (a scratch database on BENCH_DATABASE_URL, dropped after):
//  1. batch upserts: BENCH_BATCHES calls of 1000 new contacts (POST /v1/contacts/batch, upsert by
//     externalId.erp), then the same external ids again with a changed field (all updates);
//  2. a CSV import of BENCH_IMPORT_ROWS rows, upload → completed, with the server's RSS sampled.
// BENCH_CPU_PROF=1 writes the server's V8 CPU profile to bench/results/prof/ (open in Chrome DevTools).
// BENCH_SKIP=batch,import,changed,drain leaves those parts out (drain: the wait for the duplicate queue); BENCH_KEEP_DB=1 keeps the scratch database. BENCH_BUILT=1 runs dist/server.js (npm run build first).
// BENCH_DATABASE=<name> runs against that existing database instead (migrated, kept; e.g. a 1 M copy, where
// index maintenance and trigram lookups cost what they cost at scale); the run's keys carry a run tag.
// After each batch phase the bench waits for the duplicate-candidate queue (duplicate-queue.ts) to empty
// and reports that background work's time and CPU per 1000 too: it is part of what a write costs.

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const SKIP = process.env.BENCH_SKIP ?? '';
const SECRET = 'bench-secret-0123456789-0123456789-abcdef';
const PORT = Number(process.env.BENCH_PORT ?? (await freePort()));
const BASE = `http://127.0.0.1:${PORT}`;

// Names of both scripts the search normalisation serves (API.md §2), some with hamza and ta marbuta forms.
function urlFor(name: string) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

function hs256(claims: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=bench/results/prof'] : [];
  if (prof.length) mkdirSync('bench/results/prof', { recursive: true });
  return new Promise((resolve, reject) => {
    // BENCH_BUILT=1: the compiled server (npm run build), as production runs it; its RSS carries no TypeScript loader
    const [script, loader] = process.env.BENCH_BUILT ? ['dist/server.js', []] : ['src/server.ts', ['--import', 'tsx']];
    const child = fork(script, [], { env: { ...process.env, ...env }, execArgv: [...loader, ...prof], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('exit', (code) => { clearInterval(ping); reject(new Error(`server exited ${code}`)); });
    const ping = setInterval(async () => {
      try {
        // the answer must come from our child (still running), not from whatever else took the port meanwhile
        if ((await fetch(`${BASE}/health`)).status < 500 && child.exitCode === null) {
          clearInterval(ping);
          child.removeAllListeners('exit');
          resolve(child);
        }
      } catch { /* not up yet */ }
    }, 200);
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function rssSampler(pid: number) {
  const start = rssMb(pid);
  let peak = start;
  const timer = setInterval(() => void (peak = Math.max(peak, rssMb(pid))), 50);
  return { start, stop: () => (clearInterval(timer), Math.round(Math.max(peak, rssMb(pid)))) };
}

/** CPU seconds (user + system) a process has used, from /proc: unlike wall time, barely moved by the neighbours' load. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return 0; // the process ended between listing and reading
  }
}

/** CPU of the server and of the PostgreSQL backends serving this database, so far. */
async function cpuNow(serverPid: number): Promise<{ server: number; db: number }> {
  const c = new pg.Client({ connectionString: urlFor(dbName) });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return { server: cpuMs(serverPid), db: r.rows.reduce((sum, row) => sum + cpuMs(row.pid), 0) };
  } finally {
    await c.end();
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;

async function batchPhase(serverPid: number, auth: Record<string, string>, label: string, records: (i: number) => Record<string, unknown>, expected: string) {
  const times: number[] = [];
  const cpu0 = await cpuNow(serverPid);
  const t0 = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const body = { operation: 'upsert', idProperty: 'externalId.erp', records: Array.from({ length: 1000 }, (_, k) => records(b * 1000 + k)) };
    const s = performance.now();
    const res = await fetch(`${BASE}/v1/contacts/batch`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { results?: { status: string }[] };
    times.push(performance.now() - s);
    const wrong = json.results?.filter((r) => r.status !== expected).length ?? 1000;
    if (res.status !== 200 || wrong) throw new Error(`${label}: batch ${b} answered ${res.status} with ${wrong} records not ${expected}: ${JSON.stringify(json).slice(0, 500)}`);
  }
  const total = performance.now() - t0;
  const cpu1 = await cpuNow(serverPid);
  const sorted = [...times].sort((a, b) => a - b);
  return {
    scenario: `batch upsert, ${label}`, rows: BATCHES * 1000, totalMs: Math.round(total),
    msPer1000: Math.round(total / BATCHES), p50ms: Math.round(pct(sorted, 50)), maxMs: Math.round(sorted.at(-1) as number),
    // CPU per 1000 records: the server's (all of it, background workers included) and the database backends'
    serverCpuMsPer1000: Math.round((cpu1.server - cpu0.server) / BATCHES), dbCpuMsPer1000: Math.round((cpu1.db - cpu0.db) / BATCHES),
  };
}

/** Waits until the server's background pass has emptied the duplicate-candidate queue: its time and CPU per 1000 of the phase's rows. */
async function queueDrain(serverPid: number, label: string) {
  const c = new pg.Client({ connectionString: urlFor(dbName) });
  await c.connect();
  try {
    const cpu0 = await cpuNow(serverPid);
    const t0 = performance.now();
    // (a server without the queue, for a before/after comparison, has nothing to drain)
    const hasQueue = (await c.query("SELECT to_regclass('contact_duplicate_queue') IS NOT NULL AS ok")).rows[0].ok as boolean;
    while (hasQueue && Number((await c.query('SELECT count(*) AS n FROM contact_duplicate_queue')).rows[0].n) > 0) await new Promise((r) => setTimeout(r, 200));
    const cpu1 = await cpuNow(serverPid);
    return {
      scenario: `duplicate queue drained after ${label}`, rows: BATCHES * 1000, totalMs: Math.round(performance.now() - t0),
      serverCpuMsPer1000: Math.round((cpu1.server - cpu0.server) / BATCHES), dbCpuMsPer1000: Math.round((cpu1.db - cpu0.db) / BATCHES),
    };
  } finally {
    await c.end();
  }
}

async function importPhase(auth: Record<string, string>, pid: number) {
  globalThis.gc?.();
  const mem = rssSampler(pid);
  const t0 = performance.now();
  const { Readable } = await import('node:stream');
  const res = await fetch(`${BASE}/v1/imports?entity=contacts&idProperty=email`, {
    method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: Readable.toWeb(Readable.from(importCsvChunks(IMPORT_ROWS, RUN))) as ReadableStream, duplex: 'half',
  } as RequestInit);
  const { id } = (await res.json()) as { id: string };
  if (res.status !== 202) throw new Error(`import answered ${res.status}`);
  const uploadMs = performance.now() - t0;
  const uploadPeak = mem.stop();
  const applyMem = rssSampler(pid);
  let job: { status: string; processed: number; created: number; failed: number };
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    job = (await (await fetch(`${BASE}/v1/imports/${id}`, { headers: auth })).json()) as typeof job;
    if (job.status === 'completed' || job.status === 'failed') break;
  }
  const totalMs = performance.now() - t0;
  const peak = applyMem.stop();
  if (job.status !== 'completed' || job.created !== IMPORT_ROWS) throw new Error(`import ended ${JSON.stringify(job)}`);
  return {
    scenario: 'CSV import, upload → completed', rows: IMPORT_ROWS, uploadMs: Math.round(uploadMs), applyMs: Math.round(totalMs - uploadMs),
    totalMs: Math.round(totalMs), rssStartMb: Math.round(mem.start), rssPeakUploadMb: uploadPeak, rssPeakApplyMb: peak,
  };
}

const EXISTING = process.env.BENCH_DATABASE;
const dbName = EXISTING ?? `crm_bench_writes_${Date.now()}`;
/** in every key, so runs against a kept database create new contacts */
const RUN = EXISTING ? `-${Date.now().toString(36)}` : '';
if (!EXISTING) await admin(`CREATE DATABASE ${dbName}`);
const results: Record<string, unknown>[] = [];
let server: ChildProcess | undefined;
try {
  const database = connectPostgres({ url: urlFor(dbName), poolMax: 2, statementTimeoutMs: 600_000 });
  await runMigrations(database);
  await database.close();
  server = await startServer({
    DATABASE_URL: urlFor(dbName), NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000000',
    PORT: String(PORT), HOST: '127.0.0.1', MAX_EVENT_LOOP_DELAY_MS: '0', DATABASE_STATEMENT_TIMEOUT_MS: '600000',
  });
  const token = hs256({ sub: randomUUID(), role: 'admin', teamIds: [], iss: 'headless-crm', aud: 'headless-crm-api', exp: Math.floor(Date.now() / 1000) + 7200 });
  const auth = { authorization: `Bearer ${token}` };
  if (!SKIP.includes('batch')) {
    const contact = (i: number) => ({ ...nameOf(i), email: `c${i}${RUN}@bench.test`, phone: `+9665${String(i).padStart(8, '0')}`, externalIds: { erp: `E${RUN}-${i}` }, tags: ['bench'] });
    results.push(await batchPhase(server.pid!, auth, 'new rows', contact, 'created'));
    console.log(results.at(-1));
    if (!SKIP.includes('drain')) {
      results.push(await queueDrain(server.pid!, 'new rows'));
      console.log(results.at(-1));
    }
    if (!SKIP.includes('changed')) {
      results.push(await batchPhase(server.pid!, auth, 'same ids, changed', (i) => ({ ...contact(i), jobTitle: 'Buyer' }), 'updated'));
      console.log(results.at(-1));
      if (!SKIP.includes('drain')) results.push(await queueDrain(server.pid!, 'same ids, changed'));
      console.log(results.at(-1));
    }
  }
  if (!SKIP.includes('import')) results.push(await importPhase(auth, server.pid!));
} finally {
  if (server) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  // BENCH_KEEP_DB=1 leaves the database for EXPLAINs of what the batches wrote (drop it yourself)
  if (process.env.BENCH_KEEP_DB || EXISTING) console.log(`kept ${urlFor(dbName)}`);
  else await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
const load = loadavg().map((l) => l.toFixed(2)).join(' ');
console.table(results);
console.log(`load average at the end: ${load}`);
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/${new Date().toISOString().slice(0, 16).replace(':', '')}-write-paths.json`;
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), loadavg: load, batches: BATCHES, importRows: IMPORT_ROWS, results }, null, 2));
console.log(`wrote ${file}`);
