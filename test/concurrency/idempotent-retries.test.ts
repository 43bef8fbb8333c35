import { randomUUID } from 'node:crypto';
import t from 'tap';
import { and, eq, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { httpClient } from '../helpers/http-client.js';
import { sized } from '../helpers/soak.js';
import { companies } from '../../src/modules/customer/company.table.js';
import { events } from '../../src/platform/events/event.table.js';

// Issue #12: "retries of one Idempotency-Key cause one side effect with identical replies". A client
// that lost its answer retries, many times and all at once; the first request claims the key, the
// others wait for it and get its reply. One company, one event, and every caller the same bytes. A
// 503 (the pool shedding a burst larger than it) is a refusal the client retries; it changes nothing.

const RETRIES = sized(100, 1000);
const CONNECTIONS = sized(30, 200);

const h = await startTestApp();
t.teardown(() => h.close());
await h.app.listen({ host: '127.0.0.1', port: 0 });
const http = httpClient(`http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`, CONNECTIONS);
t.teardown(() => http.close());
const auth = { authorization: h.user('admin').auth.authorization };
const db = h.db.database.db;

t.test(`${RETRIES} concurrent retries of one Idempotency-Key: one side effect, identical replies`, async (t) => {
  const key = randomUUID();
  const name = `Idempotent ${key}`;
  const send = () => http.request('POST', '/v1/companies', { headers: { ...auth, 'idempotency-key': key }, body: { name, tags: ['retry'] } });
  const all = await Promise.all(Array.from({ length: RETRIES }, send));
  const replies = all.filter((r) => r.status !== 503 || !r.headers['retry-after']);
  t.comment(`${RETRIES} retries: ${replies.length} answered, ${RETRIES - replies.length} shed with 503`);
  t.same(replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.text.slice(0, 200)}`), [], 'every reply is 201 (or 503 with Retry-After)');
  const first = replies.find((r) => r.headers['idempotent-replayed'] === undefined);
  t.equal(replies.filter((r) => r.headers['idempotent-replayed'] === undefined).length, 1, 'one request ran, the others are replays');
  t.ok(replies.every((r) => r.text === first?.text), 'every body is byte-identical to the first');
  t.ok(replies.every((r) => r.headers.location === first?.headers.location && r.headers.etag === first?.headers.etag), 'same Location and ETag');

  const rows = await db.select({ id: companies.id }).from(companies).where(eq(companies.name, name));
  t.same(rows.map((x) => x.id), [first?.json().id], 'one company in the database');
  const [ev] = await db.select({ n: sql<number>`count(*)::int` }).from(events).where(and(eq(events.type, 'company.created'), eq(events.entityId, first?.json().id)));
  t.equal(ev?.n, 1, 'one company.created event');

  // a retry after everything settled is still the same reply
  const late = await send();
  t.equal(late.status, 201);
  t.equal(late.text, first?.text, 'a later retry replays the same bytes');
  t.equal(late.headers['idempotent-replayed'], 'true');
});

t.test(`${RETRIES} concurrent retries with another body under the key are all refused and write nothing`, async (t) => {
  const key = randomUUID();
  const first = await http.request('POST', '/v1/companies', { headers: { ...auth, 'idempotency-key': key }, body: { name: `Keyed ${key}` } });
  t.equal(first.status, 201);
  const replies = await Promise.all(
    Array.from({ length: RETRIES }, (_, i) => http.request('POST', '/v1/companies', { headers: { ...auth, 'idempotency-key': key }, body: { name: `Other ${key} ${i}` } })),
  );
  t.ok(replies.every((r) => (r.status === 422 && r.json().code === 'idempotency_key_reused') || (r.status === 503 && r.headers['retry-after'])), 'every one is 422 idempotency_key_reused (or shed with 503)');
  const [n] = await db.select({ n: sql<number>`count(*)::int` }).from(companies).where(sql`${companies.name} LIKE ${`Other ${key}%`}`);
  t.equal(n?.n, 0, 'none was written');
});
