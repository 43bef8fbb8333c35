import { type ChildProcess, fork } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { connectPostgres } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrations.js';

// npm run bench:get-by-id — GET a company by id through the service vs the bare Fastify + pg baseline,
// on real PostgreSQL (BENCH_DATABASE_URL, default the local server), each server in its own process,
// driven by autocannon from this one. Writes bench/results/<date>-get-by-id.json and prints a table.

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECRET = 'bench-secret-0123456789-0123456789-abcdef';

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
  // uuid v7-like ids are not needed for reads; gen_random_uuid keeps the seed one statement.
  await c.query(`INSERT INTO companies (id, name, domain, employees, tags)
    SELECT gen_random_uuid(), 'Company ' || g, 'c' || g || '.example', g % 5000, ARRAY['t' || (g % 10)]
    FROM generate_series(1, $1) g`, [ROWS]);
  await c.query('ANALYZE companies');
  const ids = (await c.query('SELECT id FROM companies ORDER BY random() LIMIT 10000')).rows.map((r) => r.id as string);
  await c.end();
  return ids;
}

function start(script: string, env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
    const ping = setInterval(async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${env.PORT}/health`);
        if (r.status < 500) { clearInterval(ping); child.removeAllListeners('exit'); resolve(child); }
      } catch { /* not up yet */ }
    }, 200);
    child.on('message', (m) => { if (m === 'ready') { clearInterval(ping); child.removeAllListeners('exit'); resolve(child); } });
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function drive(name: string, base: string, path: (id: string) => string, ids: string[], headers: Record<string, string>, pid: number) {
  let i = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path(ids[i++ % ids.length] as string) }) }],
  });
  return {
    scenario: name,
    requestsPerSecond: Math.round(result.requests.average),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    rssMb: Math.round(rssMb(pid)),
  };
}

const dbName = `crm_bench_${Date.now()}`;
console.log(`seeding ${ROWS} companies into ${dbName}…`);
const ids = await seed(dbName);
const env = { DATABASE_URL: urlFor(dbName), NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000000' };
const results = [];
try {
  const baseline = await start('bench/baseline-server.ts', { ...env, PORT: '4102' });
  results.push(await drive('baseline: fastify + pg, prepared', 'http://127.0.0.1:4102', (id) => `/companies/${id}`, ids, {}, baseline.pid!));
  baseline.kill();
  const service = await start('src/server.ts', { ...env, PORT: '4101' });
  const token = hs256({ sub: randomUUID(), role: 'admin', teamIds: [], iss: 'headless-crm', aud: 'headless-crm-api', exp: Math.floor(Date.now() / 1000) + 3600 });
  const auth = { authorization: `Bearer ${token}` };
  results.push(await drive('service: GET /v1/companies/:id', 'http://127.0.0.1:4101', (id) => `/v1/companies/${id}`, ids, auth, service.pid!));
  service.kill();
} finally {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
const ratio = (results[1]!.requestsPerSecond / results[0]!.requestsPerSecond).toFixed(2);
console.table(results);
console.log(`service ÷ baseline = ${ratio} (rows ${ROWS}, ${CONNECTIONS} connections, ${SECONDS} s each)`);
const file = `bench/results/${new Date().toISOString().slice(0, 10)}-get-by-id.json`;
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), rows: ROWS, connections: CONNECTIONS, seconds: SECONDS, results, ratio: Number(ratio) }, null, 2));
console.log(`wrote ${file}`);
