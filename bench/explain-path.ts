import { passwordOf } from '../src/seed/people-accounts.js';
import { explainAnalyze, recordQueries } from './explain.js';

// EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of one analytics request, as `account`, with the
// analytics module's settings (bench/explain.ts), and no parallel workers when NO_PARALLEL=1 (a CPU figure
// for one backend). Usage: tsx bench/explain-path.ts DATABASE_URL account PATH
const [url = '', account = 'admin', path = ''] = process.argv.slice(2);
const env = { NODE_ENV: 'production', JWT_SECRET: 'explain-path-secret-0123456789abcdef', LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '1000000', DATABASE_STATEMENT_TIMEOUT_MS: '600000' };
const { loadConfig } = await import('../src/config.js');
const { buildApp } = await import('../src/app.js');
const { connectPostgres } = await import('../src/platform/db/client.js');
const database = connectPostgres({ url, poolMax: 2, statementTimeoutMs: 600_000 });
const app = await buildApp({ config: loadConfig({ ...env, DATABASE_URL: url }), database, startWorkers: false });
await app.ready();
const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: `${account}@crm.example`, password: passwordOf(1, account) } });
const token = (login.json() as { accessToken: string }).accessToken;
const { value, queries } = await recordQueries(() => app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } }));
const slowest = [...queries].sort((a, b) => b.ms - a.ms)[0]!;
console.log(`${path}: ${value.statusCode}, slowest statement ${Math.round(slowest.ms)} ms\n${slowest.text}\n${JSON.stringify(slowest.values)}`);
console.log(await explainAnalyze(url, slowest));
await app.close();
