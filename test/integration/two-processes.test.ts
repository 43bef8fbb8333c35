import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import WebSocket from 'ws';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { connectTestRedis } from '../helpers/redis.js';
import { type ServerProcess, spawnEntry, startServerProcess } from '../helpers/server-process.js';

// Scale-out (issue #11): two real server processes, each on its own port, on one PostgreSQL database
// and one Redis, both running their background workers. What one process's caller does is seen by
// the other: the rate limit is one budget, each webhook event is delivered once, and a GraphQL
// subscription on A receives a write made through B.

const RATE_LIMIT_MAX = 30;
const ADMIN = { email: 'scale-admin@example.com', password: 'a-long-admin-password-0' };

const db = await createTestDatabase();
if (!db.url) {
  await db.close();
  throw new Error('two server processes need a PostgreSQL server: set TEST_DATABASE_URL (PGlite belongs to one process)');
}
const redis = await connectTestRedis();

const env = {
  NODE_ENV: 'test',
  DATABASE_URL: db.url,
  DATABASE_POOL_MAX: '5',
  JWT_SECRET: TEST_JWT_SECRET,
  REDIS_URL: redis.url,
  REDIS_KEY_PREFIX: redis.prefix,
  RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  SHUTDOWN_GRACE_MS: '3000',
};
const servers: (ServerProcess & { base: string })[] = [];
/** servers first: they hold connections to the database that is dropped after them */
const cleanUp = async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await redis.close();
  await db.close();
};
// a safety limit for a loaded machine, not a timing assertion
const STARTUP_LIMIT_MS = 90_000;
const started = await Promise.allSettled([startServerProcess(env, STARTUP_LIMIT_MS), startServerProcess(env, STARTUP_LIMIT_MS)]);
for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
const failed = started.find((s) => s.status === 'rejected');
if (failed) {
  // nothing below runs: leave no server, database or Redis key behind
  await cleanUp();
  throw failed.reason;
}
t.teardown(cleanUp);
const [a, b] = servers as [ServerProcess & { base: string }, ServerProcess & { base: string }];

async function call(base: string, method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
}

const login = await call(a.base, 'POST', '/v1/auth/login', undefined, ADMIN);
if (login.status !== 200) throw new Error(`login: ${JSON.stringify(login.body)}`);
const admin: string = login.body.accessToken;

const created = async (base: string, path: string, body: unknown) => {
  const r = await call(base, 'POST', path, admin, body);
  if (r.status !== 201) throw new Error(`${path} on ${base}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

t.test('the rate limit is one budget across both processes', async (t) => {
  // a caller of its own (an API key), so the other tests' requests do not count into its budget
  const key: string = (await created(b.base, '/v1/api-keys', { name: 'limited', role: 'viewer' })).key;
  const statuses: number[] = [];
  for (let i = 0; i < RATE_LIMIT_MAX; i++) statuses.push((await call(i % 2 ? b.base : a.base, 'GET', '/v1/companies', key)).status);
  t.same(statuses, Array(RATE_LIMIT_MAX).fill(200), `${RATE_LIMIT_MAX} requests, half on each process, are all within the budget`);
  for (const [name, s] of [['A', a], ['B', b]] as const) {
    const r = await call(s.base, 'GET', '/v1/companies', key);
    t.equal(r.status, 429, `the next one on ${name} is refused: ${RATE_LIMIT_MAX} in all were spent, not ${RATE_LIMIT_MAX} per process`);
    t.equal(r.body?.code, 'rate_limited');
    t.ok(Number(r.headers.get('retry-after')) >= 1, 'with Retry-After');
  }
});

t.test('each webhook event is delivered once while both processes run delivery workers', async (t) => {
  const received = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const id = String(req.headers['x-crm-event-id']);
    received.set(id, (received.get(id) ?? 0) + 1);
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await created(a.base, '/v1/webhooks', { url, events: ['contact.created'] });

  const COUNT = 12;
  const ids = new Set<string>();
  for (let i = 0; i < COUNT; i++) ids.add((await created(i % 2 ? b.base : a.base, '/v1/contacts', { firstName: `Scale ${i}` })).id);

  // the feed says which events those creations were; the receiver must get each of them
  const feed = await call(a.base, 'GET', '/v1/events?types=contact.created&limit=200', admin);
  const eventIds = (feed.body.data as { id: string; entityId: string }[]).filter((e) => ids.has(e.entityId)).map((e) => e.id);
  t.equal(eventIds.length, COUNT, 'one contact.created event per contact');

  const deadline = Date.now() + 30_000;
  while (eventIds.some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  // a few more worker passes of both processes: a second delivery of anything would arrive now
  await new Promise((r) => setTimeout(r, 3000));
  t.same(eventIds.filter((id) => received.get(id) !== 1), [], 'every event arrived exactly once');
  t.equal([...received.values()].reduce((x, y) => x + y, 0), COUNT, 'and nothing else arrived');
});

t.test('a subscription on A receives a write made through B', async (t) => {
  const ws = new WebSocket(`${a.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { headers: { authorization: `Bearer ${admin}` } });
  t.teardown(() => ws.close());
  const inbox: { type: string; id?: string; payload?: any }[] = [];
  ws.on('message', (m) => inbox.push(JSON.parse(String(m))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = async <T>(find: () => T | undefined, what: string, ms: number): Promise<T | undefined> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = find();
      if (v !== undefined || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  ws.send(JSON.stringify({ type: 'connection_init' }));
  t.ok(await until(() => inbox.find((m) => m.type === 'connection_ack'), 'ack', 10_000), 'A accepts the connection');
  ws.send(JSON.stringify({
    id: '1', type: 'subscribe',
    payload: { query: 'subscription { recordChanged(types: ["company.*"]) { type entityId data { after } } }' },
  }));
  const seen = (id: string) => () => inbox.find((m) => m.type === 'next' && m.payload?.data?.recordChanged?.entityId === id);

  // the protocol does not say when a subscription has started: write through B until A sees one
  let first;
  for (let i = 0; i < 20 && !first; i++) {
    const company = await created(b.base, '/v1/companies', { name: `Probe ${i}` });
    first = await until(seen(company.id), 'the probe', 2000);
  }
  t.ok(first, 'a company created through B reaches the subscriber on A');
  const company = await created(b.base, '/v1/companies', { name: 'Made on B' });
  const event = await until(seen(company.id), 'the write', 15_000);
  t.match(event?.payload?.data?.recordChanged, { type: 'company.created', entityId: company.id, data: { after: { name: 'Made on B' } } }, 'the next write through B arrives on A as it was made');
});

t.test('npm run cluster refuses the embedded database with a clear message', async (t) => {
  const p = spawnEntry('src/cluster.ts', { JWT_SECRET: TEST_JWT_SECRET, CLUSTER_WORKERS: '2' });
  t.teardown(() => p.stop());
  t.equal(await p.exited, 78, 'exits with EX_CONFIG, before starting any server');
  t.match(p.tail(), /needs PostgreSQL \(DATABASE_URL\)/, 'saying that it needs DATABASE_URL');
});
