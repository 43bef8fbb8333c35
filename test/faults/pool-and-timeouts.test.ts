import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.js';
import { type Database, connectPostgres } from '../../src/platform/db/client.js';
import { driverError, isDatabaseUnavailable } from '../../src/platform/db/errors.js';
import { testAppLogging } from '../helpers/app.js';
import { companies } from '../../src/modules/customer/company.table.js';
import { createTestDatabase } from '../helpers/database.js';

// Issue #12: "pool exhausted → 503 within 2 s, /health still fast; a runaway query stopped by
// statement_timeout". The app's queries are held inside PostgreSQL by a table lock taken over a
// separate connection, so its pool really is used up (or its statement really runs long). Needs a
// PostgreSQL server: PGlite has no pool and no second session to hold a lock from.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const db = await createTestDatabase();
t.teardown(() => db.close());
const url = db.url;

/** A session that holds an exclusive lock on companies, and one that watches pg_stat_activity. */
async function locker(t: Test) {
  const holder = new pg.Client({ connectionString: url });
  const observer = new pg.Client({ connectionString: url });
  await holder.connect();
  await observer.connect();
  t.teardown(() => Promise.all([holder.end(), observer.end()]).catch(() => undefined));
  const waiting = async () => {
    const r = await observer.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
      ['headless-crm'],
    );
    return r.rows[0]?.n ?? 0;
  };
  return {
    lock: async () => {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE companies IN ACCESS EXCLUSIVE MODE');
    },
    release: () => holder.query('ROLLBACK'),
    waiting,
  };
}

async function appOn(t: Test, database: Database) {
  const app = await buildApp({ ...testAppLogging(), database, startWorkers: false });
  t.teardown(async () => {
    await app.close();
    await database.close();
  });
  const authorization = `Bearer ${app.jwt.sign({ sub: randomUUID(), role: 'admin', teamIds: [] })}`;
  return { app, authorization };
}

if (!url) {
  t.comment('needs a PostgreSQL server (TEST_DATABASE_URL or Docker): PGlite has one in-process session and no pool');
} else {
  t.test('pool exhausted: later requests get 503 + Retry-After while it lasts, /health answers, and all recovers', async (t) => {
    const POOL = 2;
    // production pool wait (1.5 s); statements may run long, so the held ones outlast the wait
    const database = connectPostgres({ url, poolMax: POOL, statementTimeoutMs: 20_000 });
    const { app, authorization } = await appOn(t, database);
    const lock = await locker(t);
    await lock.lock();

    const held = Array.from({ length: POOL }, () => app.inject({ method: 'GET', url: '/v1/companies?limit=1', headers: { authorization } }));
    await waitFor('both pooled connections held by the lock', 10_000, async () => (await lock.waiting()) >= POOL);
    t.same(database.stats(), { total: POOL, idle: 0, waiting: 0 }, 'the pool is used up');

    const startedAt = Date.now();
    const refused = await app.inject({ method: 'GET', url: '/v1/companies?limit=1', headers: { authorization } });
    const refusedAfterMs = Date.now() - startedAt;
    t.equal(refused.statusCode, 503, 'a request finding no connection is refused with 503');
    t.equal(refused.headers['retry-after'], '2', 'with Retry-After');
    t.match(refused.json(), { code: 'service_unavailable', requestId: refused.headers['x-request-id'] });
    t.equal(await lock.waiting(), POOL, 'answered while the pool was still exhausted, not after it freed up');

    const gql = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization }, payload: { query: '{ companies(first: 1) { edges { node { id } } } }' } });
    t.equal(gql.json().errors?.[0]?.extensions?.code, 'service_unavailable', 'GraphQL: service_unavailable too');

    const healthStarted = Date.now();
    const health = await app.inject({ method: 'GET', url: '/health' });
    const healthMs = Date.now() - healthStarted;
    t.equal(health.statusCode, 200, '/health answers while the pool is exhausted (it needs no connection)');
    t.comment(`pool of ${POOL} exhausted: 503 after ${refusedAfterMs} ms; /health answered in ${healthMs} ms`);

    await lock.release();
    const released = await Promise.all(held);
    t.same(released.map((r) => r.statusCode), [200, 200], 'the held requests finish once the lock goes');
    const after = await app.inject({ method: 'GET', url: '/v1/companies?limit=1', headers: { authorization } });
    t.equal(after.statusCode, 200, 'and the service serves again');
  });

  t.test('a runaway statement is stopped by statement_timeout: 503, the connection is reused, nothing is left running', async (t) => {
    const TIMEOUT_MS = 500;
    const database = connectPostgres({ url, poolMax: 2, statementTimeoutMs: TIMEOUT_MS, applicationName: 'headless-crm' });
    const { app, authorization } = await appOn(t, database);

    // straight on the database: PostgreSQL cancels the statement itself (57014), not the client
    const sleeping = await database.db.execute(sql`SELECT pg_sleep(30)`).then(() => undefined, (e: unknown) => e);
    t.equal(driverError(sleeping)?.code, '57014', 'pg_sleep(30) cancelled by the server: query_canceled');
    t.ok(isDatabaseUnavailable(sleeping), 'read as "database too busy" (503), not as a bug');
    t.equal(database.stats().total, database.stats().idle, 'its connection went back to the pool');

    // through the API: a list that waits on a lock past the timeout
    const lock = await locker(t);
    await lock.lock();
    const res = await app.inject({ method: 'POST', url: '/v1/companies', headers: { authorization }, payload: { name: `Runaway ${randomUUID()}` } });
    t.equal(res.statusCode, 503, 'the request is answered 503');
    t.ok(res.headers['retry-after'], 'with Retry-After');
    t.equal(await lock.waiting(), 0, 'no statement of the app is left waiting in PostgreSQL');
    await lock.release();

    const created = await app.inject({ method: 'POST', url: '/v1/companies', headers: { authorization }, payload: { name: `After runaway ${randomUUID()}` } });
    t.equal(created.statusCode, 201, 'the next write succeeds on the same pool');
    const left = await database.db.select({ n: sql<number>`count(*)::int` }).from(companies).where(sql`${companies.name} LIKE 'Runaway %'`);
    t.equal(left[0]?.n, 0, 'the stopped write left nothing behind');
  });
}
