import { randomUUID } from 'node:crypto';
import t from 'tap';
import { type SQL, inArray, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { changedFields } from '../../src/platform/audit/audit.js';
import { auditDiffSql } from '../../src/platform/audit/audit.js';
import { verifyAuditChain } from '../../src/platform/audit/chain.js';
import { contacts, type ContactRow } from '../../src/modules/customer/contact.table.js';
import { toContactDto } from '../../src/modules/customer/contact.schema.js';
import { contactDtoSql } from '../../src/modules/customer/contact-batch.repository.js';

// Set-based batches build their audit rows and change events in PostgreSQL from the rows they wrote
// (contact-batch.repository.ts) instead of toContactDto and changedFields in the server. The content
// must be what those give, value for value: every DTO field and type (timestamps to the millisecond,
// arrays, objects, custom values, nulls), the update diff (only what changed, updatedAt and version
// aside, nothing for a value sent again in another key order), and the records' order.

const db = await createTestDatabase();
const h = await startTestApp({ db });
t.teardown(async () => {
  await h.close();
  await db.close();
});
const teamId = randomUUID();
const admin = h.user('admin', { teamIds: [teamId] });
const rows = async <T>(q: SQL) => (await queryRows<T>(db.database.db, q)).rows;
const idList = (ids: string[]) => sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
const read = async (ids: string[]) => new Map((await db.database.db.select().from(contacts).where(inArray(contacts.id, ids))).map((r) => [r.id, r as ContactRow]));

for (const d of [{ key: 'tier', type: 'select', options: ['gold', 'silver'] }, { key: 'score', type: 'number' }, { key: 'since', type: 'date' }, { key: 'vip', type: 'boolean' }]) {
  const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'contact', label: d.key, ...d } });
  if (res.statusCode !== 201) throw new Error(res.body);
}

async function upsert(records: Record<string, unknown>[]): Promise<{ id: string; status: string }[]> {
  const res = await h.request({ method: 'POST', url: '/v1/contacts/batch', headers: admin.auth, payload: { operation: 'upsert', idProperty: 'externalId.erp', records } });
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json().results;
}

t.test('creates and updates of a set-based batch: audit rows and events as toContactDto and changedFields give them', async (t) => {
  const u = randomUUID().slice(0, 8);
  const company = (await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: `Dto Co ${u}` } })).json().id as string;
  const full = {
    firstName: 'ليلى', lastName: 'Müller-O\'Brien "Q"', email: `full.${u}@example.com`, phone: '+966501234567',
    additionalEmails: [`a.${u}@example.com`, `b.${u}@example.com`], additionalPhones: ['+966501234568'], jobTitle: 'Buyer\nLead',
    companyId: company, address: { line1: 'King Fahd Rd 1', city: 'Riyadh', country: 'SA', region: null }, tags: ['vip', 'ar'],
    lifecycleStage: 'lead', source: 'import', emailOptIn: true, smsOptIn: false, consentSource: 'form',
    custom: { tier: 'gold', score: 12.5, since: '2020-02-29', vip: true },
  };
  const records = Array.from({ length: 12 }, (_, i) => (i % 3 === 0
    ? { ...full, email: `full${i}.${u}@example.com`, externalIds: { erp: `${u}-${i}`, shop: `S-${u}-${i}` } }
    : { externalIds: { erp: `${u}-${i}` }, lastName: `Only ${i}` }));
  const created = await upsert(records);
  t.same(created.map((r) => r.status), records.map(() => 'created'));
  const ids = created.map((r) => r.id);
  const after1 = await read(ids);

  const audit = await rows<{ entity_id: string; action: string; before: unknown; after: unknown; actor_id: string; request_id: string | null }>(
    sql`SELECT entity_id, action, before, after, actor_id, request_id FROM audit_logs WHERE entity_id IN (${idList(ids)}) ORDER BY occurred_at, id`);
  t.same(audit.map((a) => a.entity_id), ids, 'one audit row a record, in the records\' order');
  for (const a of audit) t.same({ action: a.action, before: a.before, after: a.after }, { action: 'create', before: null, after: toContactDto(after1.get(a.entity_id)!) });
  t.ok(audit.every((a) => a.actor_id === admin.id && a.request_id), 'who and which request');
  const events = await rows<{ entity_id: string; type: string; data: unknown }>(
    sql`SELECT entity_id, type, data FROM events WHERE entity_id IN (${idList(ids)}) ORDER BY occurred_at, id`);
  t.same(events.map((e) => e.entity_id), ids, 'one event a record, in the records\' order');
  for (const e of events) t.same({ type: e.type, data: e.data }, { type: 'contact.created', data: { before: null, after: toContactDto(after1.get(e.entity_id)!) } });
  t.same(audit.find((a) => a.entity_id === ids[0])!.after, (await h.request({ method: 'GET', url: `/v1/contacts/${ids[0]}`, headers: admin.auth })).json(), 'as GET shows it');

  // updates: a real change; the same address in another key order (no change); consent (its time moves);
  // a field cleared; a custom value changed; an array reordered
  const updates = records.map((r, i) => {
    const base = { externalIds: r.externalIds };
    if (i === 0) return { ...base, jobTitle: 'Head buyer', address: { country: 'SA', city: 'Riyadh', line1: 'King Fahd Rd 1' } };
    if (i === 1) return { ...base, emailOptIn: true, tags: ['new'] };
    if (i === 3) return { ...base, phone: null, custom: { score: 13 }, additionalEmails: [`b.${u}@example.com`, `a.${u}@example.com`] };
    if (i === 6) return { ...base, address: { city: 'Riyadh', line1: 'King Fahd Rd 1', country: 'SA', region: null }, lifecycleStage: 'customer' };
    return { ...base, lastName: `Renamed ${i}` };
  });
  const updated = await upsert(updates);
  t.same(updated.map((r) => r.status), records.map(() => 'updated'));
  const after2 = await read(ids);
  const changes = await rows<{ entity_id: string; before: unknown; after: unknown }>(
    sql`SELECT entity_id, before, after FROM audit_logs WHERE action = 'update' AND entity_id IN (${idList(ids)}) ORDER BY occurred_at, id`);
  t.same(changes.map((a) => a.entity_id), ids, 'one update audit row a record, in order');
  for (const a of changes) {
    t.same({ before: a.before, after: a.after }, changedFields(toContactDto(after1.get(a.entity_id)!), toContactDto(after2.get(a.entity_id)!)), `diff of ${ids.indexOf(a.entity_id)}`);
  }
  t.same(changes[0]!.after, { jobTitle: 'Head buyer' }, 'an address sent in another key order is no change');
  t.same(Object.keys(changes[6]!.after as object).sort(), ['address', 'lifecycleStage'], 'a null in a merge patch of the address removes its key');
  t.same(Object.keys(changes[1]!.after as object).sort(), ['emailOptIn', 'emailOptInAt', 'tags']);
  const changeEvents = await rows<{ entity_id: string; data: unknown }>(
    sql`SELECT entity_id, data FROM events WHERE type = 'contact.updated' AND entity_id IN (${idList(ids)}) ORDER BY occurred_at, id`);
  t.same(changeEvents.map((e) => e.entity_id), ids);
  for (const e of changeEvents) {
    t.same(e.data, { before: toContactDto(after1.get(e.entity_id)!), after: toContactDto(after2.get(e.entity_id)!) });
  }
  t.ok((await verifyAuditChain(db.database.db)).ok, 'the audit chain verifies');
});

t.test('contactDtoSql is toContactDto for any row, deleted and erased ones included', async (t) => {
  const all = await db.database.db.select().from(contacts);
  await db.database.db.execute(sql`UPDATE contacts SET deleted_at = now() WHERE id = ${all[0]!.id}::uuid`);
  const rowsNow = await db.database.db.select().from(contacts);
  const dtos = await rows<{ id: string; dto: unknown }>(sql`SELECT c.id, ${contactDtoSql('c')} AS dto FROM contacts c`);
  t.ok(dtos.length > 10);
  const byId = new Map(rowsNow.map((r) => [r.id, r as ContactRow]));
  for (const d of dtos) t.same(d.dto, toContactDto(byId.get(d.id)!));
  t.ok(dtos.some((d) => (d.dto as { deletedAt: string | null }).deletedAt !== null), 'a deleted row among them');
});

t.test('auditDiffSql is changedFields', async (t) => {
  const pairs: [Record<string, unknown> | null, Record<string, unknown> | null][] = [
    [{ a: 1, b: 'x', updatedAt: '1', version: 1 }, { a: 1, b: 'y', updatedAt: '2', version: 2 }],
    [{ a: { x: 1, y: [1, 2] }, n: null }, { a: { x: 1, y: [2, 1] }, n: null }],
    [{ a: 1, gone: 'v' }, { a: 1, added: null }],
    [{ same: [1, 'a'], t: true }, { same: [1, 'a'], t: false }],
    [{ a: 1 }, { a: 1 }],
  ];
  for (const [b, a] of pairs) {
    const [got] = await rows<{ before: unknown; after: unknown }>(sql`SELECT d.before, d.after FROM ${auditDiffSql(sql`${JSON.stringify(b)}::jsonb`, sql`${JSON.stringify(a)}::jsonb`)} d`);
    t.same(got, changedFields(b, a), JSON.stringify([b, a]));
  }
});
