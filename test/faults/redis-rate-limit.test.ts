import { PassThrough } from 'node:stream';
import t from 'tap';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { connectTestRedis } from '../helpers/redis.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

// Rate limits through Redis (REDIS_URL): two app instances on one Redis spend one budget per caller,
// and while Redis is away each falls back to counting on its own (fail open to per-process limits,
// docs/decisions.md), saying so in the log once, and shares again when Redis is back.

const db = await createTestDatabase();
const redis = await connectTestRedis();
t.teardown(async () => {
  await redis.close();
  await db.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An app whose log lines are kept, for the outage warnings. */
async function appWithLog(env: Record<string, string>): Promise<{ h: TestApp; logs: { level: number; msg: string }[] }> {
  const logs: { level: number; msg: string }[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as { level: number; msg: string });
  });
  const h = await startTestApp({ db, env: { LOG_LEVEL: 'info', ...env }, logStream: stream });
  return { h, logs };
}

const statusesOf = async (h: TestApp, auth: { authorization: string }, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await h.request({ method: 'GET', url: '/v1/companies', headers: auth })).statusCode);
  return out;
};

t.test('two instances on one Redis share one budget per caller', async (t) => {
  const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.prefix, RATE_LIMIT_MAX: '4' };
  const a = await startTestApp({ db, env });
  const b = await startTestApp({ db, env });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const viewer = a.user('viewer');
  const statuses: number[] = [];
  for (const h of [a, b, a, b]) statuses.push((await h.request({ method: 'GET', url: '/v1/companies', headers: viewer.auth })).statusCode);
  t.same(statuses, [200, 200, 200, 200], 'four requests, split over both, are within the budget of 4');
  for (const h of [a, b]) {
    const res = await h.request({ method: 'GET', url: '/v1/companies', headers: viewer.auth });
    t.equal(res.statusCode, 429, 'the fifth on either instance is refused: the budget was spent on both together');
    t.equal(res.json().code, 'rate_limited');
    t.ok(Number(res.headers['retry-after']) >= 1, 'with Retry-After');
  }
  t.equal((await b.request({ method: 'GET', url: '/v1/companies', headers: b.user('viewer').auth })).statusCode, 200, 'another caller has a budget of its own');

  // the credential budget (per operation and IP, shared by REST and GraphQL) comes from the same store: in Redis too
  await a.request({ method: 'POST', url: '/v1/auth/login', payload: { email: 'nobody@example.com', password: 'not-the-password' } });
  const keys = await redis.keys();
  t.ok(keys.some((k) => k.startsWith(`${redis.prefix}rate-limit:`) && k.endsWith(`user:${viewer.id}`)), 'the caller\'s counter is in Redis under REDIS_KEY_PREFIX');
  t.ok(keys.some((k) => k.startsWith(redis.prefix) && k.includes('credentials:login:')), 'so is the per-IP budget of login');
});

t.test('Redis going away: limits fall back to this process, with one warning; back: shared again', async (t) => {
  const port = Number(new URL(redis.url).port || 6379);
  const proxy = await startTcpProxy({ host: new URL(redis.url).hostname, port });
  const { h, logs } = await appWithLog({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_KEY_PREFIX: redis.prefix, RATE_LIMIT_MAX: '3' });
  t.teardown(async () => {
    await h.close();
    await proxy.stop();
  });
  const viewer = h.user('viewer');
  t.same(await statusesOf(h, viewer.auth, 1), [200], 'counted in Redis while it is there');
  const key = `${redis.prefix}rate-limit:user:${viewer.id}`;
  t.equal(await redis.client.get(key), '1', 'the counter is in Redis');

  const gauge = async () => /^redis_connected (\d)$/m.exec((await h.request({ method: 'GET', url: '/metrics' })).body)?.[1];
  t.equal(await gauge(), '1', '/metrics shows Redis connected');

  await proxy.stop();
  const during = await statusesOf(h, viewer.auth, 4);
  t.equal(await gauge(), '0', '/metrics shows the outage');
  t.same(during, [200, 200, 200, 429], 'requests are still answered, and still limited: counted in this process');
  const warnings = logs.filter((l) => l.level === 40 && /Redis unreachable/.test(l.msg));
  t.equal(warnings.length, 1, 'the outage is logged once, not per request');
  t.equal(await redis.client.get(key), '1', 'nothing reached Redis meanwhile');

  await proxy.start();
  const deadline = Date.now() + 15_000;
  while (!logs.some((l) => /Redis reachable again/.test(l.msg)) && Date.now() < deadline) await sleep(50);
  t.ok(logs.some((l) => l.level === 30 && /Redis reachable again/.test(l.msg)), 'the reconnection is logged');
  t.equal(await gauge(), '1', '/metrics shows Redis connected again');
  // Redis held 1 from before the outage; the process's own count (4) is no longer what decides
  t.same(await statusesOf(h, viewer.auth, 3), [200, 200, 429], 'counted in Redis again, from where it was before the outage');
  t.equal(await redis.client.get(key), '4', 'every request since is in the Redis counter');
});

t.test('Redis unreachable at start: the server starts, warns, and limits per process', async (t) => {
  const closed = await startTcpProxy({ host: '127.0.0.1', port: 9 });
  const port = closed.port;
  await closed.stop(); // a port on 127.0.0.1 with nobody listening
  const { h, logs } = await appWithLog({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: redis.prefix, RATE_LIMIT_MAX: '2' });
  t.teardown(() => h.close());
  t.ok(logs.some((l) => l.level === 40 && /Redis unreachable/.test(l.msg)), 'a warning names the cause');
  t.same(await statusesOf(h, h.user('viewer').auth, 3), [200, 200, 429], 'limited all the same');
});
