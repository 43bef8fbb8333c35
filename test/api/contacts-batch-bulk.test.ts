import { randomUUID } from 'node:crypto';
import t from 'tap';
import { type SQL, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { verifyAuditChain } from '../../src/platform/audit/chain.js';
import { BULK_FROM_ROWS } from '../../src/platform/db/bulk-insert.js';

// Batches of BULK_FROM_ROWS or more records insert their contacts, external ids, audit rows and events
// as one JSON parameter (bulk-insert.ts) instead of drizzle's VALUES. What a row gets must not depend
// on that: the same column defaults as a single create, one audit row and one event per record in the
// records' order (clock_timestamp() per row), and an audit chain that verifies.

const db = await createTestDatabase();
const h = await startTestApp({ db });
t.teardown(async () => {
  await h.close();
  await db.close();
});
const admin = h.user('admin');
const rows = async <T>(q: SQL) => (await queryRows<T>(db.database.db, q)).rows;
const N = BULK_FROM_ROWS + 5;

interface Result { index: number; id: string; status: string }
async function batch(idProperty: string, records: Record<string, unknown>[]): Promise<Result[]> {
  const res = await h.request({ method: 'POST', url: '/v1/contacts/batch', headers: admin.auth, payload: { operation: 'upsert', idProperty, records } });
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json().results;
}
const idList = (ids: string[]) => sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
/** the columns a write fills by default, as PostgreSQL stores them */
const defaultsOf = (ids: string[]) => rows<Record<string, unknown>>(sql`
  SELECT id, version, deleted_at IS NULL AS live, created_at = updated_at AS fresh, tags, additional_emails, additional_phones,
    external_ids, custom, email_opt_in, sms_opt_in, email_opt_in_at IS NULL AS no_opt_in_time, owner_id, team_id, name_key, search_text
  FROM contacts WHERE id IN (${idList(ids)}) ORDER BY id`);

t.test('a large batch of creates: the rows, audit and events a single create would give, in order', async (t) => {
  const u = randomUUID().slice(0, 8);
  const single = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: 'José', lastName: 'Müller', email: `single.${u}@example.com` } });
  t.equal(single.statusCode, 201);
  const records = Array.from({ length: N }, (_, i) => ({ externalIds: { erp: `${u}-${i}` }, firstName: 'José', lastName: 'Müller', email: `bulk${i}.${u}@example.com` }));
  const r = await batch('externalId.erp', records);
  t.same(r.map((x) => x.status), records.map(() => 'created'));
  const ids = r.map((x) => x.id);

  const [one] = await defaultsOf([single.json().id]);
  const many = await defaultsOf(ids);
  const { id: _a, external_ids: _b, search_text: _s, ...expected } = one!;
  for (const [i, row] of many.entries()) {
    const { id: _c, external_ids: _d, search_text: text, ...got } = row;
    t.same(got, expected, 'the defaults of a single create');
    t.equal(text, `jose muller bulk${ids.indexOf(row.id as string)}.${u}@example.com`, `search text of row ${i}`);
  }
  t.same((await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM external_ids WHERE entity_id IN (${idList(ids)})`))[0]!.n, N, 'every external id claimed');
  const got = await h.request({ method: 'GET', url: `/v1/contacts/${ids[3]}`, headers: admin.auth });
  t.equal(got.json().externalIds.erp, `${u}-3`);
  t.equal(got.json().email, `bulk3.${u}@example.com`);

  const audit = await rows<{ entity_id: string; action: string; after: { email: string } }>(
    sql`SELECT entity_id, action, after FROM audit_logs WHERE entity_id IN (${idList(ids)}) ORDER BY occurred_at, id`);
  t.same(audit.map((a) => a.entity_id), ids, 'one audit row per record, in the records\' order');
  t.ok(audit.every((a) => a.action === 'create'));
  t.same(audit[3]!.after, got.json(), 'the audit row holds the contact as GET shows it');
  const events = await rows<{ entity_id: string; type: string; data: { before: unknown; after: { email: string } } }>(
    sql`SELECT entity_id, type, data FROM events WHERE entity_id IN (${idList(ids)}) ORDER BY occurred_at, id`);
  t.same(events.map((e) => e.entity_id), ids, 'one event per record, in the records\' order');
  t.ok(events.every((e) => e.type === 'contact.created' && e.data.before === null));
  t.equal(events[7]!.data.after.email, `bulk7.${u}@example.com`);
  t.ok((await verifyAuditChain(db.database.db)).ok, 'the audit chain verifies');

  // the same external ids again, a field changed: updates, each audited with only what changed
  const again = await batch('externalId.erp', records.map((x) => ({ ...x, jobTitle: 'Buyer' })));
  t.same(again.map((x) => x.status), records.map(() => 'updated'));
  const updates = await rows<{ before: unknown; after: unknown }>(
    sql`SELECT before, after FROM audit_logs WHERE action = 'update' AND entity_id IN (${idList(ids)}) ORDER BY occurred_at, id`);
  t.equal(updates.length, N);
  t.same(updates[0], { before: { jobTitle: null }, after: { jobTitle: 'Buyer' } });
  t.ok((await verifyAuditChain(db.database.db)).ok, 'the audit chain still verifies');
});

t.test('a large batch whose records meet taken values: those fail alone, the rest are written', async (t) => {
  const u = randomUUID().slice(0, 8);
  await batch('email', [{ email: `taken.${u}@example.com`, firstName: 'First' }]);
  const records = Array.from({ length: N }, (_, i) => ({ externalIds: { erp: `t-${u}-${i}` }, firstName: 'Many', email: i === 5 ? `taken.${u}@example.com` : `many${i}.${u}@example.com` }));
  const r = await batch('externalId.erp', records);
  t.same(r.map((x) => x.status), records.map((_, i) => (i === 5 ? 'error' : 'created')));
  t.same((await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM external_ids WHERE external_id = ${`t-${u}-5`}`))[0]!.n, 0, 'the failed record holds no external id');
});
