import { type ChildProcess, spawn } from 'node:child_process';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import t from 'tap';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { captureChildOutput } from '../helpers/log-capture.js';
import { sized } from '../helpers/soak.js';
import { events } from '../../src/platform/events/event.table.js';
import { webhookDeliveries } from '../../src/modules/integration/webhook.table.js';

// Issue #12: "outbox worker killed mid-batch → every event still delivered". The webhook worker runs
// as a child process against the test database and posts to a real receiver on 127.0.0.1 that
// answers slowly, so deliveries are in flight when the worker gets SIGKILL. A second worker then
// starts; every event must reach the receiver at least once, always under its own X-CRM-Event-Id.
// Needs a PostgreSQL server: a child process cannot share the test's in-memory PGlite.

const EVENTS = sized(60, 600);
const RECEIVER_DELAY_MS = 150;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

function startWorker(url: string, clockOffsetMs: number): ChildProcess {
  const child = spawn(process.execPath, ['--import=./test/helpers/ts-register.mjs', 'test/faults/fixtures/webhook-worker.ts'], {
    env: { ...process.env, WORKER_DATABASE_URL: url, WORKER_CLOCK_OFFSET_MS: String(clockOffsetMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  captureChildOutput(child, 'worker');
  return child;
}
const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

const h = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
t.teardown(() => h.close());
const url = h.db.url;

if (!url) {
  t.comment('needs a PostgreSQL server (TEST_DATABASE_URL or Docker): the worker is another process');
} else {
  t.test(`a webhook worker SIGKILLed mid-batch: a successor delivers all ${EVENTS} events, ids unchanged`, async (t) => {
    const received: string[] = [];
    let inFlight = 0;
    const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      inFlight++;
      req.resume();
      req.on('end', () => {
        setTimeout(() => {
          received.push(String(req.headers['x-crm-event-id']));
          inFlight--;
          res.writeHead(204).end();
        }, RECEIVER_DELAY_MS);
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => new Promise<void>((r) => receiver.close(() => r())));
    const port = (receiver.address() as { port: number }).port;

    const admin = h.user('admin');
    const hook = await h.request({ method: 'POST', url: '/v1/webhooks', headers: admin.auth, payload: { url: `http://127.0.0.1:${port}/crm`, events: ['company.created'] } });
    t.equal(hook.statusCode, 201, 'webhook registered');
    const batch = await h.request({
      method: 'POST', url: '/v1/companies/batch', headers: admin.auth,
      payload: { operation: 'create', records: Array.from({ length: EVENTS }, (_, i) => ({ name: `Kill ${i}` })) },
    });
    const ids = (batch.json().results as { id: string }[]).map((r) => r.id);
    const db = h.db.database.db;
    const expected = (await db.select({ id: events.id }).from(events).where(and(eq(events.type, 'company.created'), inArray(events.entityId, ids)))).map((e) => e.id);
    t.equal(expected.length, EVENTS, `${EVENTS} company.created events in the outbox`);

    const first = startWorker(url, 0);
    t.teardown(() => void first.kill('SIGKILL'));
    await waitFor('deliveries under way and some in flight', 60_000, () => received.length >= 5 && inFlight > 0);
    const inFlightAtKill = inFlight;
    const beforeKill = new Set(received).size;
    first.kill('SIGKILL');
    await exited(first);
    t.ok(beforeKill < EVENTS, `killed mid-batch: ${beforeKill} of ${EVENTS} delivered, ${inFlightAtKill} in flight`);
    t.ok(inFlightAtKill > 0, 'with deliveries in flight at the kill');

    // the successor's clock is past the 60 s lease the dead worker's claims carry
    const second = startWorker(url, 61_000);
    t.teardown(() => void second.kill('SIGKILL'));
    await waitFor('every event delivered', 120_000, () => expected.every((id) => received.includes(id)));
    await waitFor('every delivery recorded as succeeded', 30_000, async () => {
      const open = await db.select({ n: sql<number>`count(*)::int` }).from(webhookDeliveries).where(and(eq(webhookDeliveries.webhookId, hook.json().id), ne(webhookDeliveries.status, 'succeeded')));
      return open[0]?.n === 0;
    });
    second.kill('SIGKILL');
    await exited(second);

    t.same([...new Set(received)].sort(), [...expected].sort(), 'every event reached the receiver, under the event ids of the outbox');
    const duplicates = received.length - new Set(received).size;
    // the worker claims, sends and records one batch of 10 at a time: at most that batch is sent again
    t.ok(duplicates <= 10, `re-sent at most the batch the kill interrupted (${duplicates} duplicates)`);
    t.comment(`outbox worker kill: ${EVENTS} events, ${beforeKill} delivered before SIGKILL, ${inFlightAtKill} in flight, ${duplicates} delivered twice`);
  });
}
