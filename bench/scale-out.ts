import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { Redis } from 'ioredis';
import { connectPostgres } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrations.js';

// npm run bench:scale-out — what sharing state across processes costs and gives, on GET a company by id:
//   one process with its rate-limit counters in memory; the same with them in Redis (a Redis round trip
//   per request); `npm run cluster` with CLUSTER_WORKERS processes on one port, counters in Redis.
// Real PostgreSQL (BENCH_DATABASE_URL) and Redis (BENCH_REDIS_URL); writes bench/results/<date>-scale-out.json.

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WORKERS = Number(process.env.BENCH_CLUSTER_WORKERS ?? 2);
const SECRET = 'bench-secret-0123456789-0123456789-abcdef';
const PREFIX = `crm-bench-${Date.now()}:`;
const PORT = Number(process.env.BENCH_PORT ?? 4113);

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

async function seed(dbName: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const database = connectPostgres({ url: urlFor(dbName), poolMax: 2, statementTimeoutMs: 600_000 });
  await runMigrations(database);
  await database.close();
  const c = new pg.Client({ connectionString: urlFor(dbName) });
  await c.connect();
  await c.query(`INSERT INTO companies (id, name, domain) SELECT gen_random_uuid(), 'Company ' || g, 'c' || g || '.example' FROM generate_series(1, $1) g`, [ROWS]);
  await c.query('ANALYZE companies');
  const ids = (await c.query('SELECT id FROM companies ORDER BY random() LIMIT 5000')).rows.map((r) => r.id as string);
  await c.end();
  return ids;
}

/** Starts an entry point with tsx and waits for /health on PORT. */
async function start(entry: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env, PORT: String(PORT) }, stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/health`)).status < 500) return child;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`${entry} did not start`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function drive(scenario: string, ids: string[], token: string) {
  let i = 0;
  const r = await autocannon({
    url: `http://127.0.0.1:${PORT}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: `Bearer ${token}` },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/companies/${ids[i++ % ids.length]}` }) }],
  });
  return { scenario, requestsPerSecond: Math.round(r.requests.average), p50ms: r.latency.p50, p99ms: r.latency.p99, errors: r.errors + r.non2xx };
}

const dbName = `crm_bench_scale_${Date.now()}`;
console.log(`seeding ${ROWS} companies into ${dbName}…`);
const ids = await seed(dbName);
const token = hs256({ sub: randomUUID(), role: 'admin', teamIds: [], iss: 'headless-crm', aud: 'headless-crm-api', exp: Math.floor(Date.now() / 1000) + 3600 });
// a limit no scenario reaches: what is measured is the counting, not refusals
const env = { DATABASE_URL: urlFor(dbName), NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000000', DATABASE_POOL_MAX: '10',
  // throughput is measured, not load shedding: on a shared machine the event-loop check would answer 503s
  MAX_EVENT_LOOP_DELAY_MS: '0' };
const redisEnv = { REDIS_URL: REDIS_URL, REDIS_KEY_PREFIX: PREFIX };
const scenarios: [string, string, Record<string, string>][] = [
  ['1 process, counters in memory', 'src/server.ts', env],
  ['1 process, counters in Redis', 'src/server.ts', { ...env, ...redisEnv }],
  [`npm run cluster: ${WORKERS} processes, counters in Redis`, 'src/cluster.ts', { ...env, ...redisEnv, CLUSTER_WORKERS: String(WORKERS) }],
];
const results = [];
try {
  for (const [name, entry, e] of scenarios) {
    const server = await start(entry, e);
    try {
      results.push(await drive(name, ids, token));
    } finally {
      await stop(server);
    }
  }
} finally {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}
console.table(results);
console.log(`rows ${ROWS}, ${CONNECTIONS} connections, ${SECONDS} s each; server, PostgreSQL, Redis and load generator share this machine`);
const file = `bench/results/${new Date().toISOString().slice(0, 10)}-scale-out.json`;
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), rows: ROWS, connections: CONNECTIONS, seconds: SECONDS, workers: WORKERS, results }, null, 2));
console.log(`wrote ${file}`);
