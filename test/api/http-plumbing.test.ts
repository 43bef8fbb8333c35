import t, { type Test } from 'tap';
import { sql } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/app.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { shippedMigrationCount } from '../../src/platform/db/migrations.js';
import { startTestApp, testAppLogging } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

// What every request goes through whatever its route: request ids, problem bodies, security headers,
// CORS, rate limiting, configuration, metrics, health and readiness (API.md §1, §5b, §6).

const ORIGIN = 'https://app.example.com';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PROBLEM_KEYS = ['type', 'title', 'status', 'detail', 'code', 'requestId', 'errors'];

/** A problem+json body whose requestId is the response's X-Request-Id. */
function assertProblem(t: Test, res: LightMyRequestResponse, status: number, code: string) {
  t.equal(res.statusCode, status, `status ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  t.equal(body.code, code);
  t.equal(body.status, status);
  t.equal(body.requestId, res.headers['x-request-id'], 'requestId in the body is the X-Request-Id header');
  return body;
}

/** The value of one Prometheus sample whose labels include all of `labels`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

t.test('HTTP plumbing', async (t) => {
  const db = await createTestDatabase();
  t.teardown(() => db.close());
  const h = await startTestApp({ db, env: { CORS_ORIGINS: `${ORIGIN},https://admin.example.com` } });
  t.teardown(() => h.close());
  const viewer = h.user('viewer');

  t.test('X-Request-Id is echoed when valid and replaced when not', async (t) => {
    for (const id of ['abc', 'A.b_c:d-1', 'x'.repeat(128), '0']) {
      const res = await h.request({ method: 'GET', url: '/health', headers: { 'x-request-id': id } });
      t.equal(res.headers['x-request-id'], id, `echoes ${JSON.stringify(id.slice(0, 20))}`);
    }
    const seen = new Set<string>();
    for (const id of ['x'.repeat(129), 'has space', '<script>', 'a/b', 'semi;colon', '']) {
      const res = await h.request({ method: 'GET', url: '/health', headers: { 'x-request-id': id } });
      const given = String(res.headers['x-request-id']);
      t.not(given, id, `replaces ${JSON.stringify(id.slice(0, 20))}`);
      t.match(given, REQUEST_ID, 'the replacement is itself a valid id');
      seen.add(given);
    }
    t.equal(seen.size, 6, 'generated ids are unique');
    // the id a caller chose is the one in the problem body, so support can find the log lines
    const res = await h.request({ method: 'GET', url: '/v1/companies', headers: { 'x-request-id': 'trace-me-42' } });
    t.equal(assertProblem(t, res, 401, 'unauthenticated').requestId, 'trace-me-42');
  });

  t.test('every response carries X-Request-Id', async (t) => {
    const responses = {
      health: await h.request({ method: 'GET', url: '/health' }),
      list: await h.request({ method: 'GET', url: '/v1/companies', headers: viewer.auth }),
      badQuery: await h.request({ method: 'GET', url: '/v1/companies?limit=100000', headers: viewer.auth }),
      noToken: await h.request({ method: 'GET', url: '/v1/companies' }),
      unknown: await h.request({ method: 'GET', url: '/no/such/route' }),
      graphql: await h.request({ method: 'POST', url: '/graphql', headers: viewer.auth, payload: { query: '{ companiesCount }' } }),
      graphqlBad: await h.request({ method: 'POST', url: '/graphql', headers: viewer.auth, payload: { query: '{' } }),
      metrics: await h.request({ method: 'GET', url: '/metrics' }),
      spec: await h.request({ method: 'GET', url: '/openapi.json' }),
    };
    t.same(
      Object.fromEntries(Object.entries(responses).map(([k, r]) => [k, r.statusCode])),
      { health: 200, list: 200, badQuery: 400, noToken: 401, unknown: 404, graphql: 200, graphqlBad: 400, metrics: 200, spec: 200 },
    );
    for (const [k, r] of Object.entries(responses)) t.match(String(r.headers['x-request-id']), REQUEST_ID, k);
    assertProblem(t, responses.badQuery, 400, 'validation_failed');
    const gql = responses.graphqlBad.json() as { errors: { extensions: { requestId: string } }[] };
    t.equal(gql.errors[0]?.extensions.requestId, responses.graphqlBad.headers['x-request-id']);
  });

  t.test('an unknown route is a 404 problem', async (t) => {
    const res = await h.request({ method: 'GET', url: '/v2/nothing?x=1' });
    const body = assertProblem(t, res, 404, 'not_found');
    t.match(body.type, /^https?:\/\//);
    t.type(body.title, 'string');
  });

  t.test('5xx bodies carry the requestId and nothing internal', async (t) => {
    // a route that fails the way a bug does; added to an app built exactly like the server's
    const app = await buildApp({ ...testAppLogging(), database: db.database, startWorkers: false });
    app.get('/boom', async () => {
      const secret: { row?: { passwordHash: string } } = {};
      return secret.row!.passwordHash; // TypeError naming internals
    });
    await app.ready();
    t.teardown(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'boom-1' } });
    const body = assertProblem(t, res, 500, 'internal_error');
    t.equal(body.requestId, 'boom-1');
    t.same(Object.keys(body).filter((k) => !PROBLEM_KEYS.includes(k)), [], 'only problem fields');
    t.notMatch(res.body, /passwordHash|TypeError|undefined|at .*\.ts|stack/, 'no message, type or stack of the error');
  });

  t.test('helmet security headers', async (t) => {
    for (const res of [
      await h.request({ method: 'GET', url: '/health' }),
      await h.request({ method: 'GET', url: '/v1/companies', headers: viewer.auth }),
      await h.request({ method: 'GET', url: '/nope' }),
    ]) {
      t.equal(res.headers['x-content-type-options'], 'nosniff');
      t.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      t.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
      t.equal(res.headers['referrer-policy'], 'no-referrer');
      t.equal(res.headers['cross-origin-resource-policy'], 'same-site');
      t.equal(res.headers['x-dns-prefetch-control'], 'off');
      t.notOk(res.headers['x-powered-by']);
    }
  });

  t.test('CORS answers configured origins only', async (t) => {
    const allowed = await h.request({ method: 'GET', url: '/v1/companies', headers: { ...viewer.auth, origin: ORIGIN } });
    t.equal(allowed.statusCode, 200);
    t.equal(allowed.headers['access-control-allow-origin'], ORIGIN);
    t.match(String(allowed.headers['access-control-expose-headers']), /x-request-id/);

    const other = await h.request({ method: 'GET', url: '/v1/companies', headers: { ...viewer.auth, origin: 'https://evil.example.com' } });
    t.equal(other.statusCode, 200, 'CORS is enforced by the browser; the server just does not allow it');
    t.notOk(other.headers['access-control-allow-origin']);

    // a browser's preflight carries no token; it must not be refused by authentication
    const preflight = await h.request({
      method: 'OPTIONS',
      url: '/v1/companies',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
    });
    t.ok(preflight.statusCode < 300, `preflight succeeds (${preflight.statusCode})`);
    t.equal(preflight.headers['access-control-allow-origin'], ORIGIN);
    t.match(String(preflight.headers['access-control-allow-headers']), /idempotency-key/);

    const evilPreflight = await h.request({
      method: 'OPTIONS',
      url: '/v1/companies',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    t.notOk(evilPreflight.headers['access-control-allow-origin']);
  });

  t.test('rate limit: the request past RATE_LIMIT_MAX is a 429 with Retry-After', async (t) => {
    const limited = await startTestApp({ db, env: { RATE_LIMIT_MAX: '3' } });
    t.teardown(() => limited.close());
    const u = limited.user('viewer');
    const statuses: number[] = [];
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < 4; i++) {
      last = await limited.request({ method: 'GET', url: '/v1/companies', headers: u.auth });
      statuses.push(last.statusCode);
    }
    t.same(statuses, [200, 200, 200, 429]);
    const body = assertProblem(t, last!, 429, 'rate_limited');
    t.type(body.detail, 'string');
    const retryAfter = Number(last!.headers['retry-after']);
    t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds within the window (${retryAfter})`);

    // the budget is per caller, and probes stay answerable for the orchestrator
    const other = await limited.request({ method: 'GET', url: '/v1/companies', headers: limited.user('viewer').auth });
    t.equal(other.statusCode, 200, 'another caller is not limited');
    for (const url of ['/health', '/ready', '/metrics']) {
      t.equal((await limited.request({ method: 'GET', url })).statusCode, 200, `${url} is not rate limited`);
    }
  });

  t.test('configuration: every bad variable is named', async (t) => {
    const err = t.throws(() => loadConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', CORS_ORIGINS: 'notaurl' })) as unknown;
    t.ok(err instanceof ConfigError, 'a ConfigError');
    const problems = (err as ConfigError).problems;
    for (const name of ['PORT', 'DATABASE_URL', 'CORS_ORIGINS']) {
      t.ok(problems.some((p) => p.startsWith(name)), `names ${name}`);
      t.match((err as Error).message, name);
    }
    t.equal(problems.length, 3, 'one line per bad variable, none for the good ones');

    const prod = t.throws(() => loadConfig({ NODE_ENV: 'production' })) as unknown;
    t.ok(prod instanceof ConfigError);
    t.match((prod as Error).message, /JWT_SECRET/);
    // the control: the same production settings with a secret load
    t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) }).env, 'production');
    t.equal(loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://u@h/db', CORS_ORIGINS: ORIGIN }).port, 8080);
  });

  t.test('/metrics serves Prometheus text', async (t) => {
    const labels = { method: 'GET', route: '/v1/companies/count', status: '200' };
    const before = await h.request({ method: 'GET', url: '/metrics' });
    t.equal(before.statusCode, 200);
    t.match(String(before.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const countBefore = sample(before.body, 'http_request_duration_seconds_count', labels) ?? 0;
    const pendingBefore = sample(before.body, 'outbox_pending_events');
    t.type(pendingBefore, 'number', 'outbox_pending_events is exported');
    t.not(pendingBefore, -1, 'and measured (-1 means the database query failed)');

    t.equal((await h.request({ method: 'GET', url: '/v1/companies/count', headers: viewer.auth })).statusCode, 200);
    // a write emits one event into the outbox; workers are off, so it stays pending
    const created = await h.request({ method: 'POST', url: '/v1/companies', headers: h.user('admin').auth, payload: { name: 'Metrics Probe Ltd' } });
    t.equal(created.statusCode, 201);

    const after = (await h.request({ method: 'GET', url: '/metrics' })).body;
    t.equal(sample(after, 'http_request_duration_seconds_count', labels), countBefore + 1, 'the request was timed under its route');
    t.ok((sample(after, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }) ?? 0) >= 1, 'with histogram buckets');
    t.type(sample(after, 'db_pool_connections', { state: 'total' }), 'number');
    t.type(sample(after, 'db_pool_connections', { state: 'idle' }), 'number');
    t.equal(sample(after, 'outbox_pending_events'), (pendingBefore ?? 0) + 1, 'the event of our write is pending');
  });

  t.test('/health and /ready', async (t) => {
    const health = await h.request({ method: 'GET', url: '/health' });
    t.equal(health.statusCode, 200);
    t.same(health.json(), { status: 'ok' });

    const ready = await h.request({ method: 'GET', url: '/ready' });
    t.equal(ready.statusCode, 200);
    t.ok(shippedMigrationCount() > 0);
    t.same(ready.json(), { status: 'ready', database: db.database.kind, migrations: shippedMigrationCount() });
  });

  // Last: it takes this file's own database out of readiness for a moment.
  t.test('/ready is 503 with Retry-After while a migration is missing', async (t) => {
    const { rows } = await queryRows<{ id: number; hash: string; created_at: string }>(
      db.database.db,
      sql`SELECT id, hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY id DESC LIMIT 1`,
    );
    const newest = rows[0];
    if (!newest) throw new Error('the test database has no applied migrations');
    await queryRows(db.database.db, sql`DELETE FROM drizzle.__drizzle_migrations WHERE id = ${newest.id}`);

    const res = await h.request({ method: 'GET', url: '/ready' });
    const body = assertProblem(t, res, 503, 'service_unavailable');
    t.match(body.detail, /1 migration\(s\) not applied/);
    t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After');
    t.equal((await h.request({ method: 'GET', url: '/health' })).statusCode, 200, 'liveness is not readiness');

    await queryRows(db.database.db, sql`
      INSERT INTO drizzle.__drizzle_migrations (id, hash, created_at) VALUES (${newest.id}, ${newest.hash}, ${newest.created_at}::bigint)`);
    t.equal((await h.request({ method: 'GET', url: '/ready' })).statusCode, 200, 'ready again once the migration is back');
  });
});
