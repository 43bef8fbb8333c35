import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/app.js';
import { connectPostgres } from '../src/platform/db/client.js';
import { sealAuditLog } from '../src/platform/audit/chain.js';
import { sequenceEvents } from '../src/platform/events/sequencer.js';
import { nameOf } from './names.js';

// npx tsx bench/batch-cpu.ts — CPU per 1000 records of POST /v1/contacts/batch (upsert by
// externalId.erp) on an existing database (BENCH_DATABASE_URL, e.g. a 1 M copy), split by who spends
// it: the request itself (server and PostgreSQL), then the audit sealer and the event sequencer run
// to completion after each phase. In-process (inject) with the background workers off, so the
// duplicate-candidate lookups the writes queue (~20 ms of database CPU each at 1 M) do not run
// during the measurement and blur it; the queue rows this run made are deleted at the end.
// BENCH_BATCHES batches of new contacts, then the same ids with a changed field. Read CPU, not wall.

const URL_ = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/crm_h_batch';
const BATCHES = Number(process.env.BENCH_BATCHES ?? 5);
const SECRET = 'bench-secret-0123456789-0123456789-abcdef';
const RUN = Date.now().toString(36);

const database = connectPostgres({ url: URL_, poolMax: 4, statementTimeoutMs: 600_000 });
const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'warn', JWT_SECRET: SECRET, RATE_LIMIT_MAX: '100000000', DATABASE_URL: URL_, MAX_EVENT_LOOP_DELAY_MS: '0' });
const app = await buildApp({ config, database, startWorkers: false });
await app.ready();
const auth = { authorization: `Bearer ${app.jwt.sign({ sub: '00000000-0000-4000-8000-00000000b0b0', role: 'admin', teamIds: [] })}` };

const probe = new pg.Client({ connectionString: URL_ });
await probe.connect();
const probePid = (await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const ticks = (pid: number) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // ms
  } catch {
    return 0;
  }
};
/**
 * CPU ms so far of this process and of the database's other backends (the app's pool). A backend the
 * pool closed (idle 30 s) keeps the last figure read, so each batch samples: what it did after is lost.
 */
const seen = new Map<number, number>();
async function cpu() {
  const pids = (await probe.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1', [probePid])).rows;
  for (const { pid } of pids) seen.set(pid, Math.max(seen.get(pid) ?? 0, ticks(pid)));
  const u = process.cpuUsage();
  return { server: (u.user + u.system) / 1000, db: [...seen.values()].reduce((a, b) => a + b, 0) };
}

const contact = (i: number) => ({ ...nameOf(i), email: `c${i}-${RUN}@bench.test`, phone: `+9665${String(i).padStart(8, '0')}`, externalIds: { erp: `E-${RUN}-${i}` }, tags: ['bench'] });
const results: Record<string, unknown>[] = [];
const per1000 = (a: { server: number; db: number }, b: { server: number; db: number }) => ({ serverCpuMsPer1000: Math.round((b.server - a.server) / BATCHES), dbCpuMsPer1000: Math.round((b.db - a.db) / BATCHES) });

async function phase(label: string, records: (i: number) => Record<string, unknown>, expected: string) {
  const bodies = Array.from({ length: BATCHES }, (_, b) => JSON.stringify({ operation: 'upsert', idProperty: 'externalId.erp', records: Array.from({ length: 1000 }, (_, k) => records(b * 1000 + k)) }));
  globalThis.gc?.();
  const c0 = await cpu();
  const t0 = performance.now();
  for (const body of bodies) {
    const res = await app.inject({ method: 'POST', url: '/v1/contacts/batch', headers: { ...auth, 'content-type': 'application/json' }, payload: body });
    const wrong = (res.json().results as { status: string }[] | undefined)?.filter((r) => r.status !== expected).length ?? 1000;
    if (res.statusCode !== 200 || wrong) throw new Error(`${label}: ${res.statusCode}, ${wrong} not ${expected}: ${res.body.slice(0, 300)}`);
    await cpu();
  }
  const wall = performance.now() - t0;
  const c1 = await cpu();
  results.push({ scenario: `batch, ${label}`, wallMsPer1000: Math.round(wall / BATCHES), ...per1000(c0, c1) });
  while ((await sealAuditLog(database.db)) > 0);
  const c2 = await cpu();
  results.push({ scenario: `  audit sealer after ${label}`, ...per1000(c1, c2) });
  while ((await sequenceEvents(database.db)) > 0);
  const c3 = await cpu();
  results.push({ scenario: `  event sequencer after ${label}`, ...per1000(c2, c3) });
}

const load0 = loadavg().map((l) => l.toFixed(1)).join(' ');
try {
  await phase('new rows', contact, 'created');
  await phase('same ids, changed', (i) => ({ ...contact(i), jobTitle: 'Buyer' }), 'updated');
} finally {
  // the duplicate lookups of this run's contacts are of no interest and would cost the next run's measurement
  await probe.query(`DELETE FROM contact_duplicate_queue q USING contacts c WHERE c.id = q.contact_id AND c.email LIKE '%-${RUN}@bench.test'`);
  await probe.end();
  await app.close();
  await database.close();
}
console.table(results);
console.log(`load average: ${load0} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
