import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { LOGIN_DOMAIN, passwordOf } from '../src/seed/people-accounts.js';
import { prepareFixtures, sampleData } from './fixtures.js';
import { startServer } from './servers.js';

// npm run bench:lists -- --database crm_bench_1m: the list and `q` scenarios of issue #11 alone, against
// a database seeded beforehand (seed 1), with p50/p95/p99 (autocannon reports no p95). It neither
// migrates nor writes: a database shared with others keeps its schema, and the figures compare two
// checkouts of the code over the same rows and indexes. Timing for people to read, never asserted.

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    port: { type: 'string', default: '4121' },
    // q only: skips walking 1000 list pages first (minutes each way where page k costs a full scan)
    'q-only': { type: 'boolean', default: false },
  },
});
if (!values.database || !/^[a-z_][a-z0-9_]{0,62}$/.test(values.database)) throw new Error('--database NAME (seeded with seed:demo, seed 1)');
const url = `postgres://postgres@127.0.0.1:5432/${values.database}`;
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const env = {
  DATABASE_URL: url, NODE_ENV: 'production', JWT_SECRET: 'bench-secret-0123456789-0123456789-abcdef', LOG_LEVEL: 'warn',
  RATE_LIMIT_MAX: '100000000', ACCESS_TOKEN_TTL: '24h', MAX_EVENT_LOOP_DELAY_MS: '0',
};

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
const round = (n: number) => Math.round(n * 10) / 10;

/** `connections` clients, each sending the next request when its answer is in, for `seconds`. */
async function measure(name: string, base: string, token: string, nextPath: () => string) {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const load: number[] = [loadavg()[0] ?? 0];
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < until) {
      const started = performance.now();
      const r = await fetch(`${base}${nextPath()}`, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      latencies.push(performance.now() - started);
      if (r.status !== 200) errors++;
    }
  }));
  load.push(loadavg()[0] ?? 0);
  latencies.sort((a, b) => a - b);
  const line = { scenario: name, requests: latencies.length, errors, p50ms: round(pct(latencies, 50)), p95ms: round(pct(latencies, 95)), p99ms: round(pct(latencies, 99)), load1: load.map(round) };
  console.log(JSON.stringify(line));
  return line;
}

const sample = await sampleData(url);
const server = await startServer('service', 'src/server.ts', Number(values.port), env);
try {
  const login = { email: `admin@${LOGIN_DOMAIN}`, password: passwordOf(1, 'admin') };
  const f = await prepareFixtures(sample, server.base, login, { walk: !values['q-only'] });
  console.log(`page ${f.deepPage} reached; ${connections} connections, ${seconds} s a scenario; load ${loadavg().map(round).join(' ')}`);
  const rotate = (list: string[]) => { let i = 0; return () => list[i++ % list.length] as string; };
  const arabic = sample.names.filter((n) => /[\u0600-\u06FF]/.test(n));
  const latin = sample.names.filter((n) => !/[\u0600-\u06FF]/.test(n));
  const search = (names: string[]) => { const next = rotate(names); return () => `/v1/contacts?q=${encodeURIComponent(next())}&limit=20`; };
  if (!values['q-only']) await measure('list page 1', server.base, f.token, () => f.listPath);
  if (!values['q-only']) await measure(`list page ${f.deepPage}`, server.base, f.token, () => `${f.listPath}&cursor=${encodeURIComponent(f.deepCursor ?? '')}`);
  await measure(`q, sampled names (${sample.names.length})`, server.base, f.token, search(sample.names));
  await measure(`q, Arabic names (${arabic.length})`, server.base, f.token, search(arabic));
  await measure(`q, Latin names (${latin.length})`, server.base, f.token, search(latin));
} finally {
  await server.stop();
}
