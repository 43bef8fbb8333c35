import { readFileSync } from 'node:fs';
import pg from 'pg';
import { passwordOf } from '../src/seed/people-accounts.js';
import { analyticsPaths } from './analytics.js';

// CPU per analytics call, which the machine's load does not inflate the way it inflates wall time: the
// server process's and its PostgreSQL backends' user+system ticks (/proc/<pid>/stat) before and after
// RUNS requests of each endpoint, divided by RUNS. Start the server with DATABASE_POOL_MAX=1 so one
// backend serves every statement. Parallel workers are processes of their own that exit after each
// statement: their CPU is not in these figures (see "Workers Launched" in EXPLAIN ANALYZE).
// Usage: tsx bench/analytics-cpu.ts BASE_URL DATABASE_URL SERVER_PID [runs] [only-substring]

const [base = 'http://127.0.0.1:3000', url = '', serverPid = '', runsArg = '3', only] = process.argv.slice(2);
const runs = Number(runsArg);
const who = (process.env.ACCOUNTS ?? 'admin,sales1').split(',');
const TICK_MS = 10; // USER_HZ = 100 on Linux

function ticks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of stat)
  } catch {
    return 0; // the process ended
  }
}

const client = new pg.Client({ connectionString: url });
await client.connect();
const database = (await client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
async function backends(): Promise<number[]> {
  const r = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = $2', [database, 'client backend']);
  return r.rows.map((x) => x.pid);
}
const total = async () => ticks(Number(serverPid)) + (await backends()).reduce((s, pid) => s + ticks(pid), 0);

async function signIn(key: string): Promise<string> {
  const r = await fetch(`${base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${key}@crm.example`, password: passwordOf(1, key) }),
  });
  if (!r.ok) throw new Error(`login ${key}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { accessToken: string }).accessToken;
}

for (const account of who) {
  const token = await signIn(account);
  for (const path of analyticsPaths().filter((p) => !only || p.includes(only))) {
    const get = () => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => { await r.arrayBuffer(); return r.status; });
    await get(); // warm: the pool's connection exists and the pages are cached like the following calls'
    const before = await total();
    const started = performance.now();
    let status = 0;
    for (let i = 0; i < runs; i++) status = await get();
    const wall = (performance.now() - started) / runs;
    const cpu = ((await total()) - before) * TICK_MS / runs;
    console.log(`${account}\t${path}\t${status}\tcpu ${Math.round(cpu)} ms\twall ${Math.round(wall)} ms`);
  }
}
await client.end();
