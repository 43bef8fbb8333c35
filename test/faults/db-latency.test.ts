import { randomUUID } from 'node:crypto';
import t from 'tap';
import { inArray, sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.js';
import { connectPostgres } from '../../src/platform/db/client.js';
import { companies } from '../../src/modules/customer/company.table.js';
import { testAppLogging } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { sized } from '../helpers/soak.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

// Issue #12, "use a small TCP proxy in the test to cut, delay and reset the database connection":
// the delay. The app's pool reaches PostgreSQL only through test/helpers/tcp-proxy.ts, whose latency
// is switched while HTTP load runs:
//   - a slow dial (new connections wait longer than the pool's connect timeout) → 503 + Retry-After,
//     then service once it is removed;
//   - a slow link the pool keeps up with → every request still answers 2xx, only later;
//   - a link so slow that requests wait past the pool wait (1.5 s) → 503 + Retry-After, never a 500
//     or a dropped connection, and service again once the delay is removed;
// and no create acknowledged with 201 in any phase is missing from the table afterwards.
// Needs a PostgreSQL server: PGlite is one session, with no pool to wait for.

const POOL = 3;
const RECOVERY_LIMIT_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

interface Outcome {
  phase: string;
  op: 'list' | 'create';
  startedAt: number;
  endedAt: number;
  /** 0: no HTTP answer at all (connection error, client timeout) */
  status: number;
  retryAfter: string | null;
  body: { code?: string; status?: number; requestId?: string; id?: string } | null;
  requestIdHeader: string | null;
  error?: string;
}

const db = await createTestDatabase();
t.teardown(() => db.close());

if (!db.url) {
  t.comment('needs a PostgreSQL server (TEST_DATABASE_URL or Docker): PGlite has one session and no pool');
} else {
  const target = new URL(db.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  t.teardown(() => proxy.stop());
  const viaProxy = new URL(db.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  // the production pool wait (1.5 s); statements are not what is slow here, the link is
  const database = connectPostgres({ url: viaProxy.toString(), poolMax: POOL, statementTimeoutMs: 30_000 });
  const app = await buildApp({ ...testAppLogging(), database, startWorkers: false });
  t.teardown(async () => {
    await app.close();
    await database.close();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const authorization = `Bearer ${app.jwt.sign({ sub: randomUUID(), role: 'admin', teamIds: [] })}`;
  const tag = `Latency ${randomUUID().slice(0, 8)}`;
  const outcomes: Outcome[] = [];

  /**
   * `workers` clients alternating list and create until `until()` holds (or the hard limit);
   * `onGoal` runs the moment it first holds, while the last requests are still in flight.
   */
  const load = async (phase: string, workers: number, until: () => boolean, o: { onGoal?: () => void; limitMs?: number } = {}) => {
    const startedAt = Date.now();
    const limitMs = o.limitMs ?? 60_000;
    let reached = false;
    const goal = () => {
      if (!reached && until()) {
        reached = true;
        o.onGoal?.();
      }
      return reached;
    };
    const client = async (w: number) => {
      for (let i = w; !goal() && Date.now() - startedAt < limitMs; i++) {
        const op = i % 2 === 0 ? 'list' : 'create';
        const init: RequestInit = op === 'list'
          ? { headers: { authorization } }
          : { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ name: `${tag} ${phase} ${i}` }) };
        const o: Outcome = { phase, op, startedAt: Date.now(), endedAt: 0, status: 0, retryAfter: null, body: null, requestIdHeader: null };
        try {
          const res = await fetch(`${base}${op === 'list' ? '/v1/companies?limit=5' : '/v1/companies'}`, { ...init, signal: AbortSignal.timeout(60_000) });
          o.status = res.status;
          o.retryAfter = res.headers.get('retry-after');
          o.requestIdHeader = res.headers.get('x-request-id');
          o.body = (await res.json()) as Outcome['body'];
        } catch (e) {
          o.error = String((e as Error).cause ?? e);
          await sleep(20);
        }
        o.endedAt = Date.now();
        outcomes.push(o);
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => client(w)));
    if (!goal()) throw new Error(`phase ${phase}: its goal was not reached within ${limitMs} ms`);
  };
  const of = (phase: string) => outcomes.filter((o) => o.phase === phase);
  const ok = (o: Outcome) => o.status >= 200 && o.status < 300;
  const describe = (o: Outcome) => `${o.phase} ${o.op} ${o.status} ${o.error ?? JSON.stringify(o.body)}`;
  /** the ways a non-2xx answer falls short of a proper "database unavailable" 503 */
  const notProper503 = (o: Outcome) => {
    const why: string[] = [];
    if (o.status !== 503) why.push(`status ${o.status}`);
    if (!o.retryAfter || !/^\d+$/.test(o.retryAfter)) why.push(`retry-after ${o.retryAfter}`);
    if (o.body?.code !== 'service_unavailable') why.push(`code ${o.body?.code}`);
    if (o.body?.requestId !== o.requestIdHeader) why.push('requestId differs from X-Request-Id');
    return why.length ? [`${describe(o)}: ${why.join(', ')}`] : [];
  };

  t.test('a database that is slow to accept connections: 503 + Retry-After, then service once it is fast again', async (t) => {
    t.equal(database.stats().total, 0, 'the pool has not connected yet');
    // longer than the pool's 1.5 s connect timeout
    proxy.setDelay({ ms: 3_000, per: 'connect' });
    let fastAgain = 0;
    const fast = () => {
      proxy.setDelay();
      fastAgain = Date.now();
    };
    await load('slow dial', 2, () => of('slow dial').filter((o) => o.status === 503).length >= sized(2, 20), { onGoal: fast });
    t.ok(proxy.delayed.connections >= 1, `the proxy held ${proxy.delayed.connections} new connections`);
    const answers = of('slow dial');
    t.same(answers.filter((o) => !ok(o)).flatMap(notProper503), [], 'every failure is a 503 with Retry-After and a service_unavailable problem');

    await load('dial fast again', 2, () => of('dial fast again').filter(ok).length >= 4);
    // the first connections after the change are new ones (a fork on the server, authentication):
    // their time is reported, not asserted; the 5 s bound of issue #12 is for the link below
    const first = Math.min(...outcomes.filter((o) => ok(o) && o.endedAt >= fastAgain).map((o) => o.endedAt));
    t.ok(Number.isFinite(first), 'requests succeed again once connections are accepted promptly');
    t.comment(`first success ${first - fastAgain} ms after the delay was removed`);
    t.same(of('dial fast again').filter((o) => !ok(o) && o.status !== 503).map(describe), [], 'nothing but 2xx and 503 meanwhile');
  });

  t.test('a slow link the pool keeps up with: every request still answers 2xx', async (t) => {
    const before = proxy.delayed.chunks;
    // each round trip to the database costs 2 × 20 ms more; one client per pooled connection, so
    // nobody waits for a connection and only the link is slower
    proxy.setDelay({ ms: 20 });
    await load('slow link', POOL, () => of('slow link').length >= sized(9, 300), { onGoal: () => proxy.setDelay() });
    t.ok(proxy.delayed.chunks > before, `the proxy held ${proxy.delayed.chunks - before} chunks`);
    t.same(of('slow link').filter((o) => !ok(o)).map(describe), [], 'all 2xx');
    t.ok(of('slow link').some((o) => o.op === 'create' && o.status === 201), 'creates acknowledged over the slow link');
  });

  t.test('a link slower than the pool wait: 503 + Retry-After, never a 500, and service once the delay goes', async (t) => {
    // A request's statements take several round trips, each 2 × 300 ms now (1 s under SOAK): its connection is busy
    // for seconds, so with three clients per connection the others wait past the 1.5 s pool wait.
    proxy.setDelay({ ms: sized(300, 1_000) });
    const delayedAt = Date.now();
    const wanted503 = sized(4, 100);
    let fastAgain = 0;
    // the delay goes as soon as enough was seen: requests still in flight then finish at full speed
    const fast = () => {
      proxy.setDelay();
      fastAgain = Date.now();
    };
    await load('too slow', POOL * 3, () => of('too slow').filter((o) => o.status === 503).length >= wanted503 && of('too slow').some(ok), { onGoal: fast, limitMs: 120_000 });
    const slow = of('too slow');
    t.same(slow.filter((o) => !ok(o)).flatMap(notProper503), [], 'every failure is a 503 with Retry-After and a service_unavailable problem (no 500, no dropped connection)');
    t.ok(slow.some((o) => ok(o)), 'requests that got a connection still completed, slowly');
    const waited = slow.filter((o) => o.status === 503).map((o) => o.endedAt - o.startedAt);
    t.comment(`${slow.length} requests over the slow link (delayed for ${fastAgain - delayedAt} ms): ${waited.length} answered 503 after ${Math.min(...waited)}–${Math.max(...waited)} ms`);

    await load('fast again', POOL, () => of('fast again').filter((o) => o.op === 'create' && o.status === 201 && o.startedAt > fastAgain).length >= 2);
    const first = Math.min(...outcomes.filter((o) => ok(o) && o.endedAt >= fastAgain).map((o) => o.endedAt));
    t.ok(first - fastAgain < RECOVERY_LIMIT_MS, `first success ${first - fastAgain} ms after the delay was removed (limit ${RECOVERY_LIMIT_MS} ms)`);
    t.same(of('fast again').filter((o) => !ok(o) && o.status !== 503).map(describe), [], 'nothing but 2xx and 503 while the held data drains');
    await waitFor('the pool to settle', 10_000, () => database.stats().total === database.stats().idle);
    t.equal(database.stats().waiting, 0, 'nobody waits for a connection afterwards');
  });

  t.test('no acknowledged create is lost to the delays', async (t) => {
    const acknowledged = outcomes.flatMap((o) => (o.op === 'create' && o.status === 201 && o.body?.id ? [o.body.id] : []));
    t.ok(acknowledged.length > 0, 'creates were acknowledged');
    const stored = await database.db.select({ id: companies.id }).from(companies).where(inArray(companies.id, acknowledged));
    t.equal(stored.length, acknowledged.length, `all ${acknowledged.length} acknowledged creates are stored`);
    const [row] = await database.db.select({ n: sql<number>`count(*)::int` }).from(companies).where(sql`${companies.name} LIKE ${`${tag} %`}`);
    const refusedCreates = outcomes.filter((o) => o.op === 'create' && o.status === 503).length;
    t.comment(`creates: ${acknowledged.length} acknowledged, ${refusedCreates} refused with 503, ${row?.n} rows stored`);
  });
}
