import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { LOGIN_DOMAIN, passwordOf } from '../src/seed/people-accounts.js';
import { prepareFixtures, sampleData } from './fixtures.js';
import { readScenarios } from './scenarios.js';
import { freePort, type Server, startServer } from './servers.js';

// npm run bench:read-cpu -- --database NAME [--only get,graphql] [--requests 3000] [--connections 20] [--rounds 1] [--prof]
// The read scenarios of issue #11 measured by what the neighbours' load moves least: CPU per request of
// the server process, of the PostgreSQL backends of its database and of the load generator (this
// process: autocannon) from /proc, and SQL statements per request (counted in the server by
// bench/count-statements.ts). Each scenario gets a warm-up of a fifth of its requests, then a fixed
// number of requests; req/s and p99 are printed with the load average beside them. The baseline
// (bench/baseline-server.ts) runs first, as the reference. With --rounds N the service's scenarios run
// N times in turn (get, graphql, get, graphql…) and a last line gives each one's median: on a shared
// machine a neighbour's burst then lands on both sides of a comparison, not on one.
// --prof writes the service's V8 CPU profile to bench/results/prof/ (Chrome DevTools opens it).
// The database must be seeded beforehand (seed:demo, seed 1); nothing is migrated or written.

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    only: { type: 'string', default: 'baseline,get,list,deep,q,graphql,rest360,graphql360' },
    requests: { type: 'string', default: '3000' },
    connections: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
    prof: { type: 'boolean', default: false },
  },
});
if (!values.database || !/^[a-z_][a-z0-9_]{0,62}$/.test(values.database)) throw new Error('--database NAME (seeded with seed:demo, seed 1)');
const url = `postgres://postgres@127.0.0.1:5432/${values.database}`;
const only = new Set(values.only.split(','));
const requests = Number(values.requests);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const env = {
  DATABASE_URL: url, NODE_ENV: 'production', JWT_SECRET: 'bench-secret-0123456789-0123456789-abcdef', LOG_LEVEL: 'warn',
  RATE_LIMIT_MAX: '100000000', ACCESS_TOKEN_TTL: '24h', MAX_EVENT_LOOP_DELAY_MS: '0',
};
// the scenarios of bench/scenarios.ts by short name
const SHORT: Record<string, string> = {
  get: 'REST GET contact by id', list: 'REST list, filter + sort, page 1', q: 'REST q search', graphql: 'GraphQL contact by id',
  rest360: 'REST 360', graphql360: 'GraphQL 360',
};

function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return 0;
  }
}
const admin = new pg.Client({ connectionString: url });
await admin.connect();
async function cpuNow(serverPid: number) {
  const r = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return { server: cpuMs(serverPid), db: r.rows.reduce((sum, row) => sum + cpuMs(row.pid), 0) };
}
const statementsOf = (s: Server) => new Promise<number>((resolve) => {
  const heard = (m: unknown) => {
    if (typeof m === 'object' && m && 'statements' in m) { s.child.off('message', heard); resolve((m as { statements: number }).statements); }
  };
  s.child.on('message', heard);
  s.child.send('statements?');
});

type Next = () => { method: string; path: string; body?: string };
type Measured = { scenario: string; serverCpuMsPerReq: number; dbCpuMsPerReq: number; loadGeneratorCpuMsPerReq: number };
async function measure(name: string, server: Server, headers: Record<string, string>, next: Next, warmUp = true): Promise<Measured> {
  const pid = server.child.pid!;
  const fire = (amount: number) => autocannon({
    url: server.base, connections, amount, timeout: 60, headers,
    requests: [{ setupRequest: (req) => { const s = next(); return { ...req, method: s.method as 'GET', path: s.path, ...(s.body ? { body: s.body } : {}), headers: { ...headers, 'content-type': 'application/json' } }; } }],
  });
  if (warmUp) await fire(Math.ceil(requests / 5));
  const load0 = loadavg()[0]!;
  const cpu0 = await cpuNow(pid);
  const client0 = process.cpuUsage();
  const st0 = await statementsOf(server);
  const started = performance.now();
  const r = await fire(requests);
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(client0);
  const st1 = await statementsOf(server);
  const cpu1 = await cpuNow(pid);
  const n = r.requests.total;
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  const line = {
    scenario: name, requests: n, non2xx: r.non2xx + r.errors + r.timeouts,
    serverCpuMsPerReq: round((cpu1.server - cpu0.server) / n), dbCpuMsPerReq: round((cpu1.db - cpu0.db) / n),
    loadGeneratorCpuMsPerReq: round((client.user + client.system) / 1000 / n),
    statementsPerReq: round((st1 - st0 - 0) / n), reqPerSec: Math.round(n / seconds), p50ms: r.latency.p50, p99ms: r.latency.p99,
    load1: `${round(load0, 1)} → ${round(loadavg()[0]!, 1)}`,
  };
  console.log(JSON.stringify(line));
  return line;
}

// A copy made with CREATE DATABASE … TEMPLATE, or a seed not yet vacuumed, has no planner statistics:
// the list page then ran as a scan of a million rows (24 ms of database CPU a page instead of ~1).
// `npm run bench -- --database` vacuums first; this tool writes nothing, so it says so instead.
const analyzed = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stats WHERE tablename = 'contacts'");
if (Number(analyzed.rows[0]!.n) === 0) console.error(`${values.database} has no planner statistics: run VACUUM (ANALYZE) on it first, or plans (lists) are not the service's`);

const preload = ['--import', './bench/count-statements.ts'];
const sample = await sampleData(url);
try {
  if (only.has('baseline')) {
    const baseline = await startServer('baseline', 'bench/baseline-server.ts', await freePort(), env, preload);
    let b = 0;
    try {
      await measure('baseline', baseline, {}, () => ({ method: 'GET', path: `/contacts/${sample.ids[b++ % sample.ids.length]}` }));
    } finally {
      await baseline.stop();
    }
  }
  const prof = values.prof ? ['--cpu-prof', '--cpu-prof-dir=bench/results/prof'] : [];
  const service = await startServer('service', 'src/server.ts', await freePort(), env, [...preload, ...prof]);
  try {
    const f = await prepareFixtures(sample, service.base, { email: `admin@${LOGIN_DOMAIN}`, password: passwordOf(1, 'admin') }, { walk: only.has('deep') });
    const headers = { authorization: `Bearer ${f.token}` };
    // without the walk (no `deep`) the deep scenario is page 1 again: each name once
    const scenarios = readScenarios(f).filter((s, i, all) => all.findIndex((x) => x.name === s.name) === i).filter((s) => {
      const short = s.name.includes(`page ${f.deepPage}`) && !s.name.endsWith('page 1') ? 'deep' : Object.keys(SHORT).find((k) => SHORT[k] === s.name);
      return short !== undefined && only.has(short);
    });
    const seen: Measured[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const s of scenarios) seen.push(await measure(s.name, service, headers, s.next, r === 0));
    }
    if (rounds > 1) {
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      for (const s of scenarios) {
        const mine = seen.filter((m) => m.scenario === s.name);
        console.log(JSON.stringify({
          scenario: s.name, medianOfRounds: rounds, serverCpuMsPerReq: median(mine.map((m) => m.serverCpuMsPerReq)),
          dbCpuMsPerReq: median(mine.map((m) => m.dbCpuMsPerReq)), loadGeneratorCpuMsPerReq: median(mine.map((m) => m.loadGeneratorCpuMsPerReq)),
        }));
      }
    }
  } finally {
    await service.stop();
  }
} finally {
  await admin.end();
}
