import { readFileSync } from 'node:fs';
import pg from 'pg';
import { passwordOf } from '../src/seed/people-accounts.js';
import { analyticsPaths } from './analytics.js';

// CPU per call of analytics endpoints, which the load of a shared machine does not inflate the way
// it does wall-clock time: the service process's and its database backends' user+system time
// (/proc/<pid>/stat) over RUNS calls, divided by RUNS, next to the median wall time. Parallel query
// workers are short-lived processes whose time /proc cannot collect afterwards: start the service
// with PGOPTIONS='-c max_parallel_workers_per_gather=0' so every statement's work is in its backend.
// Usage: tsx bench/analytics-cpu.ts BASE_URL SERVER_PID DATABASE_URL [runs] [only-substring] [query]

const [base = '', serverPid = '', url = '', runsArg = '3', only, query = ''] = process.argv.slice(2);
const runs = Number(runsArg);
const who = (process.env.ACCOUNTS ?? 'admin,sales1').split(',');
const TICK_MS = 10; // USER_HZ 100

const cpuOf = (pid: number): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return 0;
  }
};
const client = new pg.Client({ connectionString: url });
await client.connect();
const database = new URL(url).pathname.slice(1);
async function pids(): Promise<number[]> {
  const r = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
  return [Number(serverPid), ...r.rows.map((x) => x.pid)];
}
const total = (ps: number[]) => ps.reduce((s, p) => s + cpuOf(p), 0);

for (const account of who) {
  const login = await fetch(`${base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${account}@crm.example`, password: passwordOf(1, account) }),
  });
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  for (const path of analyticsPaths().filter((p) => !only || p.includes(only))) {
    const target = `${base}${path}${query ? `?${query}` : ''}`;
    await (await fetch(target, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer(); // warm: pool, plans, caches
    const ps = await pids();
    const before = total(ps);
    const times: number[] = [];
    let status = 0;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const r = await fetch(target, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      status = r.status;
      times.push(performance.now() - started);
    }
    const cpu = (total(ps) - before) / runs;
    times.sort((a, b) => a - b);
    console.log(`${account}\t${path}${query ? `?${query}` : ''}\t${status}\twall ${Math.round(times[Math.floor(runs / 2)]!)} ms\tcpu ${Math.round(cpu)} ms/call`);
  }
}
await client.end();
