import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { connectPostgres } from '../../src/platform/db/client.js';
import { TEST_JWT_SECRET, testAppLogging } from '../helpers/app.js';
import { captureChildOutput } from '../helpers/log-capture.js';
import { createTestDatabase } from '../helpers/database.js';
import { settlesWithin } from '../helpers/settles.js';

// Graceful shutdown as server.ts wires it (app.close() on a signal, the pool ended in an onClose
// hook): the request in flight finishes, new requests are turned away, and only then does the pool end.

const BATCH = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

t.test('app.close() finishes the request in flight, refuses new ones, then ends the pool', async (t) => {
  const db = await createTestDatabase();
  // On a server the app gets a pool of its own, as in production, so its end is observable.
  const database = db.url ? connectPostgres({ url: db.url, poolMax: 5, statementTimeoutMs: 10_000, connectionTimeoutMs: 10_000 }) : db.database;
  const events: string[] = [];
  t.teardown(async () => {
    if (db.url || !events.includes('pool ended')) await db.close();
  });

  const app = await buildApp({ ...testAppLogging(), database, startWorkers: true });
  app.addHook('onClose', async () => {
    await database.close(); // what server.ts registers
    events.push('pool ended');
  });

  // Test-only gate: the batch request waits inside the app (authenticated, validated, before the
  // handler touches the database) until the close has begun, so it is certainly in flight then.
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.url !== '/v1/companies/batch') return;
    entered();
    await gate;
  });
  app.addHook('onResponse', async (request) => {
    if (request.routeOptions.url === '/v1/companies/batch') events.push('in-flight answered');
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const authorization = `Bearer ${app.jwt.sign({ sub: randomUUID(), role: 'admin', teamIds: [] })}`;

  const tag = randomUUID();
  const inFlight = fetch(`${base}/v1/companies/batch`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ operation: 'create', records: Array.from({ length: BATCH }, (_, i) => ({ name: `Shutdown ${tag} ${i}` })) }),
    signal: AbortSignal.timeout(30_000),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as { results?: { status: string; id: string | null }[] } }));
  await inside;

  const closing = app.close().then(() => events.push('app closed'));
  await waitFor('the listener to close', 5_000, () => !app.server.listening);

  const late = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) }).then(
    (res) => ({ status: res.status, error: undefined }),
    (e: Error) => ({ status: 0, error: (e.cause as { code?: string } | undefined)?.code ?? String(e) }),
  );
  t.ok(late.status === 503 || late.error === 'ECONNREFUSED', `a request after close began is turned away (${late.status || late.error})`);
  t.same(events, [], 'the pool is still open while a request is in flight');

  openGate();
  const answered = await inFlight;
  t.equal(answered.status, 200, 'the in-flight batch completes with 200');
  t.equal(answered.body.results?.length, BATCH, 'with a result per record');
  t.ok(answered.body.results?.every((r) => r.status === 'created' && r.id), 'every record created');

  const closed = await settlesWithin(closing, 15_000);
  t.ok(closed, 'app.close() resolves');
  t.same(events, ['in-flight answered', 'pool ended', 'app closed'], 'the pool ends only after the in-flight request was answered');
  if (database.kind === 'postgres') t.equal(database.stats().total, 0, 'no connection left in the pool');
});

// The same promise from outside, as an operator sees it: `node src/server.ts` gets SIGTERM while
// writes are in flight (held inside PostgreSQL by a table lock, so they certainly are). Every one of
// them must be answered 201, a new request is turned away, the process exits 0, and the outbox holds
// an event for every acknowledged write. Needs a server: the child process cannot reach an in-memory PGlite.
t.test('SIGTERM to the server process: writes in flight complete, new requests are refused, outbox rows intact', async (t) => {
  const IN_FLIGHT = 10;
  const db = await createTestDatabase();
  t.teardown(() => db.close());
  if (!db.url) {
    t.comment('needs a PostgreSQL server (TEST_DATABASE_URL or Docker)');
    return;
  }
  const signer = await buildApp({ ...testAppLogging(), database: db.database, startWorkers: false });
  t.teardown(() => signer.close());
  const authorization = `Bearer ${signer.jwt.sign({ sub: randomUUID(), role: 'admin', teamIds: [] })}`;

  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  t.teardown(() => holder.end().catch(() => undefined));

  const server = spawn(process.execPath, ['--import=./test/helpers/ts-register.mjs', 'src/server.ts'], {
    env: {
      ...process.env, DATABASE_URL: db.url, HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'test', LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET, RATE_LIMIT_MAX: '100000', ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'correct-horse-battery-staple-42',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => void server.kill('SIGKILL'));
  captureChildOutput(server, 'server');
  const exit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output.slice(-500)}`)), 120_000);
    server.once('exit', (code) => reject(new Error(`server exited ${code} before it was ready: ${output.slice(-500)}`)));
    server.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /CRM ready on http:\/\/localhost:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const base = `http://127.0.0.1:${port}`;

  await holder.query('BEGIN');
  await holder.query('LOCK TABLE companies IN ACCESS EXCLUSIVE MODE');
  const tag = randomUUID();
  const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) =>
    fetch(`${base}/v1/companies`, {
      method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ name: `Sigterm ${tag} ${i}` }), signal: AbortSignal.timeout(60_000),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { id?: string } })),
  );
  const observer = new pg.Client({ connectionString: db.url });
  await observer.connect();
  t.teardown(() => observer.end().catch(() => undefined));
  const held = async () => (await observer.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'headless-crm' AND wait_event_type = 'Lock'`,
  )).rows[0]?.n ?? 0;
  for (let i = 0; i < 1500 && (await held()) < IN_FLIGHT; i++) await sleep(20);
  t.equal(await held(), IN_FLIGHT, `${IN_FLIGHT} writes in flight, held by the lock`);

  server.kill('SIGTERM');
  // a new request after the signal: refused (connection refused, or 503 on a kept-alive connection)
  let refused = '';
  for (let i = 0; i < 100 && !refused; i++) {
    await sleep(50);
    refused = await fetch(`${base}/v1/companies?limit=1`, { headers: { authorization }, signal: AbortSignal.timeout(5_000) }).then(
      (res) => (res.status === 503 ? '503' : ''),
      (e: Error) => ((e.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : ''),
    );
  }
  t.ok(refused, `a request after SIGTERM is refused (${refused || 'it was served'})`);

  await holder.query('ROLLBACK');
  const answered = await Promise.all(inFlight);
  t.same(answered.map((a) => a.status), Array(IN_FLIGHT).fill(201), 'every write in flight at SIGTERM is answered 201');
  t.equal(await exit, 0, 'the process exits 0 once they are done');

  const ids = answered.map((a) => a.body.id as string);
  const stored = await observer.query<{ n: number }>('SELECT count(*)::int AS n FROM companies WHERE id = ANY($1::uuid[])', [ids]);
  t.equal(stored.rows[0]?.n, IN_FLIGHT, 'every acknowledged company is stored');
  const outbox = await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE type = 'company.created' AND entity_id = ANY($1::uuid[])`, [ids]);
  t.equal(outbox.rows[0]?.n, IN_FLIGHT, 'and its company.created event is in the outbox');
});
