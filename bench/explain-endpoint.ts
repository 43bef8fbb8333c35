import { passwordOf } from '../src/seed/people-accounts.js';
import { explainSlowest } from './analytics.js';

// EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of one analytics endpoint, run in this process
// against DATABASE (a database seeded by seed:demo with seed 1), as the given seeded account.
// Usage: tsx bench/explain-endpoint.ts DATABASE_URL PATH [account]

const [url, path, account = 'admin'] = process.argv.slice(2) as [string, string, string?];
const env = { NODE_ENV: 'production', JWT_SECRET: 'explain-endpoint-secret-0123456789abcdef', LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '1000000' };
const { loadConfig } = await import('../src/config.js');
const { buildApp } = await import('../src/app.js');
const { connectPostgres } = await import('../src/platform/db/client.js');
// sign in through the service itself to get a token for the account
const database = connectPostgres({ url, poolMax: 2, statementTimeoutMs: 600_000 });
const app = await buildApp({ config: loadConfig({ ...env, DATABASE_URL: url }), database, startWorkers: false });
const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: `${account}@crm.example`, password: passwordOf(1, account) } });
const token = (login.json() as { accessToken: string }).accessToken;
if (!token) throw new Error(`login: ${login.statusCode} ${login.body}`);
await app.close();
await database.close();
const plan = await explainSlowest(path, url, env, token);
console.log(plan ? `${plan.path}: ${plan.statementMs} ms\n${plan.statement}\n${plan.plan}` : 'no statement');
