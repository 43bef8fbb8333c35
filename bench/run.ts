import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { connectPostgres } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrations.js';
import { seedDemo } from '../src/seed/seed.js';
import { scaleFor } from '../src/seed/scale.js';
import { LOGIN_DOMAIN, passwordOf } from '../src/seed/people-accounts.js';
import { benchOptions } from './options.js';
import { describeMachine, loadAverageNow } from './machine.js';
import { freePort, peakRssDuring, startServer, untilDatabaseIdle, untilServerSettled } from './servers.js';
import { type ScenarioResult, runScenario } from './load.js';
import { prepareFixtures, sampleData } from './fixtures.js';
import { SCENARIO_KEYS, readScenarios, writeScenarios } from './scenarios.js';
import { importCsv } from './import-csv.js';
import { explainSlowest, timeAnalytics } from './analytics.js';
import { pgbenchCeiling } from './pgbench.js';
import { type BenchResults, markdown } from './report.js';

// npm run bench: seeds a scratch database on BENCH_DATABASE_URL with the demo generator (COPY), then
// measures the bare baseline, every scenario of the service, a CSV import, every analytics endpoint
// and the pgbench ceiling; writes bench/results/<date>.json and .md. Exits 1 when any request
// failed, never because of a timing: timing is for people to read, errors are bugs.

const o = benchOptions();
const unknownKeys = (o.only ?? []).filter((k) => !SCENARIO_KEYS[k]);
if (unknownKeys.length) throw new Error(`--only: unknown ${unknownKeys.join(', ')}; known: ${Object.keys(SCENARIO_KEYS).join(', ')}`);
const selected = (name: string) => !o.only || o.only.some((k) => SCENARIO_KEYS[k]!(name));
// every read (the baseline too) runs this long unmeasured first: a just-started server is still in the interpreter
const warmupSeconds = o.quick ? 1 : 2;
const runId = Date.now().toString(36);
const dbName = o.database ?? `crm_bench_${runId}`;
const urlFor = (name: string) => Object.assign(new URL(o.adminUrl), { pathname: `/${name}` }).toString();
const url = urlFor(dbName);
const SECRET = 'bench-secret-0123456789-0123456789-abcdef';
const env = {
  DATABASE_URL: url, NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000000',
  ACCESS_TOKEN_TTL: '24h',
  // measure capacity: shedding load with 503s when the event loop lags would turn overload into errors
  MAX_EVENT_LOOP_DELAY_MS: '0',
};
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: o.adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const machine = await describeMachine(o.adminUrl);
if (!o.database) await admin(`CREATE DATABASE ${dbName}`);
/** Seeds the scratch database with the demo generator (seed 1), timed. */
async function seedScratch() {
  const scale = scaleFor(o.contacts);
  log(`seeding ${dbName}: ${JSON.stringify(scale)}`);
  const seedStarted = performance.now();
  const database = connectPostgres({ url, poolMax: 2, statementTimeoutMs: 3_600_000 });
  await runMigrations(database);
  let table = '';
  const seeded = await seedDemo(database, { scale, seed: 1, onProgress: (t) => { if (t !== table) log(`  ${(table = t)}`); } });
  await database.close();
  const seedSeconds = Math.round((performance.now() - seedStarted) / 100) / 10;
  log(`seeded in ${seedSeconds} s`);
  return { scale: { ...scale } as Record<string, number>, seedSeconds, adminLogin: seeded.logins.find((l) => l.role === 'admin')! };
}

/** A database seeded beforehand with seed 1: migrated to this checkout, its row counts read, the seed's admin signs in. */
async function seededBeforehand(dbUrl: string) {
  const database = connectPostgres({ url: dbUrl, poolMax: 1, statementTimeoutMs: 3_600_000 });
  await runMigrations(database);
  await database.close();
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const scale: Record<string, number> = {};
  let pending = 0;
  try {
    await compactAfterMigrations(c);
    for (const t of ['contacts', 'companies', 'leads', 'deals', 'activities', 'tickets', 'orders', 'campaigns']) {
      scale[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
    }
    // Lookups queued by an earlier run's writes are worked off by the service while this run measures
    // (~20 ms of database CPU each at 1 M contacts): said here, and in the results' scale, since they
    // slow every scenario.
    pending = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM contact_duplicate_queue')).rows[0]!.n);
    if (pending) scale.duplicateLookupsPending = pending;
  } finally {
    await c.end();
  }
  log(`measuring ${dbName} as it is: ${JSON.stringify(scale)}${pending ? ` — ${pending} duplicate lookups still queued by earlier writes: the service works them off during this run` : ''}`);
  return { scale, seedSeconds: null, adminLogin: { email: `admin@${LOGIN_DOMAIN}`, password: passwordOf(1, 'admin') } };
}

/**
 * A migration that backfills a column rewrites every row of its table, and this machine's server runs
 * with autovacuum off: without this, the bench would scan twice the pages and plan from stale
 * statistics. Tables with more than a fifth dead rows are rewritten (VACUUM FULL, what an operator runs
 * after such a migration, docs/performance.md), then the whole database is vacuumed so the visibility
 * map lets index-only scans skip the heap.
 */
async function compactAfterMigrations(c: pg.Client) {
  const bloated = await c.query<{ t: string }>(`SELECT relname AS t FROM pg_stat_user_tables WHERE n_dead_tup > 1000 AND n_dead_tup > n_live_tup / 5`);
  for (const { t } of bloated.rows) {
    log(`  VACUUM (FULL, ANALYZE) ${t}`);
    await c.query(`VACUUM (FULL, ANALYZE) "${t}"`);
  }
  await c.query('VACUUM (ANALYZE)');
  // and written out before anything is timed: a migration's backfill and this vacuum leave gigabytes
  // of dirty pages, and the checkpoint writing them ran under the first scenarios (2026-12-08 02:24:
  // pgbench's own ceiling 9 293 tps, 26 078 in a run without a migration)
  await c.query('CHECKPOINT');
}

let exitCode = 0;
try {
  const { scale, seedSeconds, adminLogin } = o.database ? await seededBeforehand(url) : await seedScratch();
  const sample = await sampleData(url);
  const run = { seconds: o.seconds, connections: o.connections };

  const baselineServer = await startServer('baseline', 'bench/baseline-server.ts', await freePort(), env);
  const baselineIds = [...sample.ids];
  let b = 0;
  const baseline = await runScenario(baselineServer.base, baselineServer.child.pid, {
    name: 'baseline: Fastify + pg, prepared, same SELECT', warmupSeconds, next: () => ({ method: 'GET', path: `/contacts/${baselineIds[b++ % baselineIds.length]}` }),
  }, { ...run, headers: {} });
  await baselineServer.stop();
  log(`baseline ${baseline.requestsPerSecond} req/s`);

  const service = await startServer('service', 'src/server.ts', await freePort(), env);
  const pid = service.child.pid;
  const fixtures = await prepareFixtures(sample, service.base, adminLogin, { walk: !o.only || o.only.includes('deep') });
  const headers = { authorization: `Bearer ${fixtures.token}` };
  const scenarios: ScenarioResult[] = [];
  // without the walk (--only without `deep`) the deep scenario is page 1 again: run each name once
  const pick = <T extends { name: string }>(list: T[]) => list.filter((x, i, all) => selected(x.name) && all.findIndex((y) => y.name === x.name) === i);
  const measure = async (list: ReturnType<typeof readScenarios>, idleSeconds: number) => {
    for (const s of list) {
      const r = await runScenario(service.base, pid, s, { ...run, headers });
      await untilDatabaseIdle(url, idleSeconds);
      await untilServerSettled(service.base);
      log(`${r.scenario}: ${r.requestsPerSecond} req/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, ${r.errors} errors, ${r.connections} connections`);
      scenarios.push(r);
    }
  };
  await measure(pick(readScenarios(fixtures, warmupSeconds)), 300);
  // Analytics before the writes: every contact written queues a duplicate-candidate lookup that the
  // service's background pass then works off (~20 ms of database CPU each at 1 M contacts, docs/
  // decisions.md), and the figures are timed on a database that is not doing that. For the same reason
  // a write scenario waits at most a minute for the database to go idle: the lookups it queued are the
  // steady state of a service taking writes, and are measured as such.
  const analytics = o.only ? [] : await timeAnalytics(service.base, fixtures.token);
  await measure(pick(writeScenarios(fixtures, runId, o)), 60);
  if (o.only) {
    await service.stop();
    const rps = (n: string) => scenarios.find((x) => x.scenario === n)?.requestsPerSecond;
    const rest = rps('REST GET contact by id');
    const gql = rps('GraphQL contact by id');
    log(`REST by id ÷ baseline ${rest ? Math.round((rest / baseline.requestsPerSecond) * 100) / 100 : 'n/a'}; GraphQL by id ÷ REST by id ${rest && gql ? Math.round((gql / rest) * 100) / 100 : 'n/a'}; load average ${machine.loadAverageAtStart.join(' / ')} at start, ${loadAverageNow().join(' / ')} now`);
    const failed = baseline.errors + scenarios.reduce((n, r) => n + r.errors, 0);
    if (failed) console.error(`${failed} requests failed`);
    exitCode = failed ? 1 : 0;
  } else {
    const { value: imported, peakRssMb } = await peakRssDuring(pid, () => importCsv(service.base, fixtures.token, o.importRows, runId));
    log(`${imported.scenario}: ${imported.rowsPerSecond} rows/s, ${imported.status}, ${imported.failed} failed`);
    await service.stop();
    const slowest = [...analytics].sort((a, b2) => b2.medianMs - a.medianMs)[0];
    const slowestAnalytics = slowest ? await explainSlowest(slowest.path, url, env, fixtures.token) : undefined;
    const pgbench = await pgbenchCeiling(url, sample.ids, { seconds: o.seconds, clients: o.connections });

    // no ratio when a side completed nothing (a saturated machine), rather than 0 or Infinity
    const ratio = (a: number, b: number) => (a > 0 && b > 0 ? Math.round((a / b) * 100) / 100 : null);
    const byName = (n: string) => scenarios.find((s) => s.scenario === n)!.requestsPerSecond;
    const errors = baseline.errors + scenarios.reduce((s, r) => s + r.errors, 0) + imported.errors + analytics.filter((a) => a.status !== 200).length;
    const results: BenchResults = {
      at: new Date().toISOString(), quick: o.quick, scale, seedSeconds, seconds: o.seconds, connections: o.connections,
      machine: { ...machine, loadAverageAtEnd: loadAverageNow() },
      baseline, scenarios, import: { ...imported, peakRssMb },
      ratios: {
        restByIdToBaseline: ratio(byName('REST GET contact by id'), baseline.requestsPerSecond),
        graphqlByIdToRest: ratio(byName('GraphQL contact by id'), byName('REST GET contact by id')),
      },
      pgbench, analytics, slowestAnalytics, errors,
    };
    mkdirSync('bench/results', { recursive: true });
    // the default full scale is <date>.json; other scales say theirs in the name
    const file = `bench/results/${results.at.slice(0, 10)}${o.quick ? '-quick' : o.contacts === 1_000_000 ? '' : `-${o.contacts}-contacts`}`;
    writeFileSync(`${file}.json`, `${JSON.stringify(results, null, 2)}\n`);
    const md = markdown(results);
    writeFileSync(`${file}.md`, `${md}\n`);
    console.log(`\n${md}\n\nwrote ${file}.json and ${file}.md`);
    if (errors > 0) {
      console.error(`${errors} requests failed`);
      exitCode = 1;
    }
  }
} finally {
  if (!o.keep && !o.database) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  else log(`kept ${url}`);
}
process.exit(exitCode);
