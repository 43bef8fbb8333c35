import { randomUUID } from 'node:crypto';
import t from 'tap';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { httpClient } from '../helpers/http-client.js';
import { sized } from '../helpers/soak.js';
import { contacts } from '../../src/modules/customer/contact.table.js';
import { externalIds } from '../../src/platform/db/external-ids.table.js';
import { events } from '../../src/platform/events/event.table.js';

// Issue #12: "concurrent creates with one email or external id make one record". All the creates
// are sent at once over many connections; the unique index (email) and the external-id side table
// must let exactly one commit, and every other caller must hear 409 conflict naming the field — not a
// 500 from a unique violation that slipped past the translation, and not a second record. A 503
// (the pool shedding a burst larger than it) is a refusal that wrote nothing.

const CREATES = sized(100, 1000);
const CONNECTIONS = sized(30, 200);

const h = await startTestApp();
t.teardown(() => h.close());
await h.app.listen({ host: '127.0.0.1', port: 0 });
const http = httpClient(`http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`, CONNECTIONS);
t.teardown(() => http.close());
const auth = { authorization: h.user('admin').auth.authorization };
const db = h.db.database.db;

async function createAll(body: (i: number) => object) {
  const replies = await Promise.all(Array.from({ length: CREATES }, (_, i) => http.request('POST', '/v1/contacts', { headers: auth, body: body(i) })));
  const created = replies.filter((r) => r.status === 201);
  const conflicts = replies.filter((r) => r.status === 409);
  const shed = replies.filter((r) => r.status === 503 && r.headers['retry-after']);
  const other = replies.filter((r) => r.status !== 201 && r.status !== 409 && !shed.includes(r)).map((r) => `${r.status} ${r.text.slice(0, 200)}`);
  return { replies, created, conflicts, shed, other };
}

async function createdEvents(ids: string[]) {
  const rows = await db.select({ n: sql<number>`count(*)::int` }).from(events).where(and(eq(events.type, 'contact.created'), inArray(events.entityId, ids)));
  return rows[0]?.n ?? 0;
}

t.test(`${CREATES} concurrent creates with one email make one contact`, async (t) => {
  const email = `race-${randomUUID()}@example.com`;
  const r = await createAll((i) => ({ email, firstName: `Racer ${i}` }));
  t.same(r.other, [], 'every answer is 201, 409, or 503 with Retry-After');
  t.equal(r.created.length, 1, 'exactly one 201');
  t.equal(r.conflicts.length + r.shed.length, CREATES - 1, 'every other create is 409 (or shed)');
  t.comment(`one email: ${CREATES} creates, 1 created, ${r.conflicts.length} conflicts, ${r.shed.length} shed with 503`);
  t.ok(
    r.conflicts.every((c) => c.json().code === 'conflict' && c.json().errors?.some((e: { path: string }) => e.path === 'email')),
    'each 409 is conflict naming email',
  );
  const rows = await db.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.email, email), isNull(contacts.deletedAt)));
  t.same(rows.map((x) => x.id), [r.created[0]?.json().id], 'one row in the database, the acknowledged one');
  t.equal(await createdEvents(rows.map((x) => x.id)), 1, 'one contact.created event');
});

t.test(`${CREATES} concurrent creates with one external id make one contact`, async (t) => {
  const shopId = randomUUID();
  const r = await createAll((i) => ({ firstName: `Shopper ${i}`, email: `shopper-${i}-${shopId}@example.com`, externalIds: { shop: shopId } }));
  t.same(r.other, [], 'every answer is 201, 409, or 503 with Retry-After');
  t.equal(r.created.length, 1, 'exactly one 201');
  t.comment(`one external id: ${CREATES} creates, 1 created, ${r.conflicts.length} conflicts, ${r.shed.length} shed with 503`);
  t.ok(
    r.conflicts.every((c) => c.json().code === 'conflict' && c.json().errors?.some((e: { path: string }) => e.path === 'externalIds.shop')),
    'each 409 is conflict naming externalIds.shop',
  );
  const held = await db.select({ entityId: externalIds.entityId }).from(externalIds).where(and(eq(externalIds.system, 'shop'), eq(externalIds.externalId, shopId)));
  t.same(held.map((x) => x.entityId), [r.created[0]?.json().id], 'the external id is held by the acknowledged contact');
  const rows = await db.select({ id: contacts.id }).from(contacts).where(sql`${contacts.externalIds} ->> 'shop' = ${shopId}`);
  t.equal(rows.length, 1, 'one contact carries it: the refused creates left no row behind');
  t.equal(await createdEvents(rows.map((x) => x.id)), 1, 'one contact.created event');
});

t.test(`${CREATES} concurrent upserts by external id make one contact and update it`, async (t) => {
  const shopId = randomUUID();
  const replies = await Promise.all(
    Array.from({ length: CREATES }, (_, i) =>
      http.request('POST', '/v1/contacts/batch', {
        headers: auth,
        body: { operation: 'upsert', idProperty: 'externalId.shop', records: [{ externalIds: { shop: shopId }, firstName: `Upsert ${i}` }] },
      }),
    ),
  );
  const answered = replies.filter((r) => r.status === 200);
  t.same(replies.filter((r) => r.status !== 200 && !(r.status === 503 && r.headers['retry-after'])).map((r) => `${r.status} ${r.text.slice(0, 200)}`), [], 'every batch answers 200 (or 503 with Retry-After)');
  const results = answered.map((r) => r.json<{ results: { status: string; id: string | null; error?: unknown }[] }>().results[0]);
  const statuses: Record<string, number> = {};
  for (const x of results) statuses[x?.status ?? 'missing'] = (statuses[x?.status ?? 'missing'] ?? 0) + 1;
  t.equal(statuses.created, 1, `one upsert created the contact (${JSON.stringify(statuses)})`);
  t.equal(new Set(results.map((x) => x?.id)).size, 1, 'every upsert names the same contact');
  t.notOk(statuses.error, 'no upsert failed');
  const rows = await db.select({ id: contacts.id, version: contacts.version }).from(contacts).where(sql`${contacts.externalIds} ->> 'shop' = ${shopId}`);
  t.equal(rows.length, 1, 'one row');
  t.equal(rows[0]?.version, 1 + (statuses.updated ?? 0), 'its version counts the updates acknowledged');
});
