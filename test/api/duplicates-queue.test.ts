import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { inTransaction } from '../../src/platform/db/transaction.js';
import { contactDuplicateWorker, refreshContactsQueuedBefore, refreshQueuedContacts } from '../../src/modules/customer/duplicate-queue.js';
import { AppError } from '../../src/platform/errors/app-error.js';

// Contact candidate lookups run after the write (duplicate-queue.ts): the write queues the id in its
// transaction, the background pass or the next read of the pairs does the lookup. No reader may see a
// list that misses a committed write, and a deleted contact loses its pairs at once.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const uniq = () => randomUUID().slice(0, 8);

const queued = async (ids: string[]) =>
  Number((await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM contact_duplicate_queue WHERE contact_id IN (${sql.join(ids.map((i) => sql`${i}::uuid`), sql`, `)})`)).rows[0]?.n);
const stored = async (a: string, b: string) =>
  (await queryRows<{ reasons: string[] }>(db, sql`SELECT reasons FROM duplicate_candidates WHERE entity = 'contact' AND a_id = least(${a}::uuid, ${b}::uuid) AND b_id = greatest(${a}::uuid, ${b}::uuid)`)).rows[0]?.reasons;
async function batch(records: object[]) {
  const res = await h.request({ method: 'POST', url: '/v1/contacts/batch', headers: admin.auth, payload: { operation: 'create', records } });
  t.equal(res.statusCode, 200);
  return res.json().results.map((r: { id: string }) => r.id) as string[];
}
const sameEmailPair = (u: string) => Array.from({ length: 10 }, (_, i) => ({ firstName: `Q${i}${u}`, lastName: `Zz${i}`, email: `q${i}.${u}@example.com` }))
  .concat([{ firstName: 'Other', lastName: `Yy${u}`, email: `q0.${u}@example.org` }]);

t.test('a batch queues its contacts; the background pass stores their pairs and empties the queue', async (t) => {
  const u = uniq();
  const ids = await batch([...sameEmailPair(u), { firstName: 'Twin', lastName: `Tw${u}`, phone: '+14155550100' }, { firstName: 'Twin', lastName: `Tw${u}`, phone: '+14155550100' }]);
  const [x, y] = ids.slice(-2) as [string, string];
  t.equal(await queued(ids), ids.length, 'every new contact is queued, in the write transaction');
  t.notOk(await stored(x, y), 'no lookup ran in the write');
  while ((await contactDuplicateWorker.run(db)) > 0);
  t.equal(await queued(ids), 0, 'the pass took them off the queue');
  t.same(await stored(x, y), ['same_phone', 'similar_name'], 'and stored their pair');
});

t.test('a read of the pairs refreshes what was queued before it, waiting for a pass under way', async (t) => {
  const u = uniq();
  const ids = await batch(Array.from({ length: 12 }, (_, i) => ({ firstName: 'Maribel', lastName: `Quintanilla${u}`, email: `m${i}.${u}@example.com` })));
  // another process's pass holds the lock: the reader must wait for it, not skip what it is doing
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const holder = inTransaction(db, async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(7201100011)`);
    await held;
  });
  await new Promise((r) => setTimeout(r, 100));
  let answered = false;
  const read = h.request({ method: 'GET', url: '/v1/contacts/duplicates', headers: admin.auth, query: { limit: '200' } }).then((r) => ((answered = true), r));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(answered, 'the read waits while a pass holds the lock');
  release();
  await holder;
  const res = await read;
  t.equal(res.statusCode, 200);
  const mine = res.json().data.filter((p: { contactIds: string[] }) => p.contactIds.every((id) => ids.includes(id)));
  t.equal(mine.length, 66, 'every pair of the 12 same-named contacts (12·11/2) is in the first read after the write');
  t.equal(await queued(ids), 0);
});

t.test('updates and deletes drop the pairs at once; the refresh finds the new ones', async (t) => {
  const u = uniq();
  const ids = await batch(sameEmailPair(u));
  await refreshQueuedContacts(db, { wait: true });
  const [a] = ids as [string];
  const b = ids.at(-1) as string;
  const patch = await h.request({ method: 'PATCH', url: `/v1/contacts/${b}`, headers: admin.auth, payload: { additionalEmails: [`q0.${u}@example.com`] } });
  t.equal(patch.statusCode, 200);
  t.notOk(await stored(a, b), 'not stored until the pass');
  t.equal(await queued([b]), 1, 'the update is queued');
  while ((await refreshQueuedContacts(db)) > 0);
  t.same(await stored(a, b), ['same_email'], 'the pass found the pair the update made');
  t.equal((await h.request({ method: 'DELETE', url: `/v1/contacts/${b}`, headers: admin.auth })).statusCode, 204);
  t.notOk(await stored(a, b), 'a deleted contact has no stored pair from its commit on');
  t.equal(await queued([b]), 0, 'and nothing to look up');
});

t.test('a reader that cannot catch up within its budget gets 503 with Retry-After, not a stale list', async (t) => {
  while ((await refreshQueuedContacts(db)) > 0); // start from an empty queue
  const u = uniq();
  const ids = [
    ...(await batch(Array.from({ length: 100 }, (_, i) => ({ firstName: 'Backlog', lastName: `Bl${u}`, email: `b${i}.${u}@example.com` })))),
    ...(await batch(Array.from({ length: 30 }, (_, i) => ({ firstName: 'Backlog', lastName: `Bl${u}`, email: `c${i}.${u}@example.com` })))),
  ];
  // a zero budget: the reader does one pass (100 contacts), then must refuse rather than answer
  const err = await refreshContactsQueuedBefore(db, 0).then(() => null, (e: unknown) => e);
  t.ok(err instanceof AppError, 'refused');
  t.equal((err as AppError).code, 'service_unavailable');
  t.match((err as AppError).message, /30 recently written contacts/, 'says how many are left');
  t.ok(Number((err as AppError & { headers?: Record<string, string> }).headers?.['retry-after']) >= 5, 'with Retry-After');
  t.equal(await queued(ids), 30, 'the pass it did is kept');
  await refreshContactsQueuedBefore(db);
  t.equal(await queued(ids), 0, 'with its budget it catches up');
  const res = await h.request({ method: 'GET', url: '/v1/contacts/duplicates', headers: admin.auth, query: { limit: '10' } });
  t.equal(res.statusCode, 200, 'and the endpoint answers once the queue is drained');
});
