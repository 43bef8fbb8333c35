import { randomUUID } from 'node:crypto';
import t from 'tap';
import { type SQL, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { countStatements } from '../helpers/statements.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { verifyAuditChain } from '../../src/platform/audit/chain.js';

// Contact batches of creates and upserts are written set-based (contact-batch.ts). What must hold is
// what the record-by-record path guaranteed: per-record results and errors in their places, the rows,
// their external ids, one audit row and one change event per write (the audit chain still verifying),
// and records whose write the set statements cannot decide alone (a value taken, an id to move)
// resolved exactly as before. And the statements sent do not grow with the number of records.

const db = await createTestDatabase();
const count = countStatements(db.database, { ignore: (q) => q.includes('from "custom_fields"') });
const h = await startTestApp({ db });
t.teardown(async () => {
  await h.close();
  await db.close();
});
const admin = h.user('admin');
const rows = async <T>(q: SQL) => (await queryRows<T>(db.database.db, q)).rows;

interface Result { index: number; id: string | null; status: string; error?: { code: string; status: number; errors?: { path: string }[] } }
async function upsert(idProperty: string, records: Record<string, unknown>[]): Promise<Result[]> {
  const res = await h.request({ method: 'POST', url: '/v1/contacts/batch', headers: admin.auth, payload: { operation: 'upsert', idProperty, records } });
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json().results;
}
const idList = (ids: string[]) => sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);

t.test('a mixed upsert batch: each record gets the answer the one-by-one path gave', async (t) => {
  const u = randomUUID().slice(0, 8);
  const company = (await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: `Set Co ${u}` } })).json().id as string;
  const seed = await upsert('externalId.erp', [
    { externalIds: { erp: `${u}-1` }, firstName: 'Kept', email: `kept.${u}@example.com` },
    { externalIds: { erp: `${u}-2` }, firstName: 'Changed' },
    { externalIds: { erp: `${u}-3` }, firstName: 'Moves', lastName: 'Ids' },
    { externalIds: { erp: `${u}-4`, crm: `C-${u}` }, firstName: 'Holder' },
    { externalIds: { erp: `${u}-5` }, firstName: 'Renamed', email: `renamed.${u}@example.com` },
  ]);
  t.same(seed.map((r) => r.status), ['created', 'created', 'created', 'created', 'created']);

  const r = await upsert('externalId.erp', [
    { externalIds: { erp: `${u}-1` }, firstName: 'Kept', email: `kept.${u}@example.com` },
    { externalIds: { erp: `${u}-2` }, firstName: 'Changed', jobTitle: 'Buyer', companyId: company },
    { externalIds: { erp: `${u}-new` }, firstName: 'New', email: `new.${u}@example.com` },
    { externalIds: { erp: `${u}-bad` }, firstName: 'Bad', email: 'not-an-email' },
    { externalIds: { erp: `${u}-nocompany` }, firstName: 'Lost', companyId: randomUUID() },
    { externalIds: { erp: `${u}-taken-email` }, firstName: 'Copy', email: `KEPT.${u}@example.com` },
    { externalIds: { erp: `${u}-taken-crm`, crm: `C-${u}` }, firstName: 'Thief' },
    { externalIds: { erp: `${u}-3`, crm: `M-${u}` }, lastName: 'Ids Moved' },
    { externalIds: { erp: `${u}-5` }, email: `kept.${u}@example.com` },
    { firstName: 'No key' },
  ]);
  t.same(r.map((x) => x.status), ['unchanged', 'updated', 'created', 'error', 'error', 'error', 'error', 'updated', 'error', 'error']);
  t.equal(r[0]!.id, seed[0]!.id);
  t.equal(r[1]!.id, seed[1]!.id);
  t.match(r[3], { error: { code: 'validation_failed', errors: [{ path: 'email' }] } });
  t.match(r[4], { error: { code: 'invalid_reference', status: 422, errors: [{ path: 'companyId' }] } });
  t.match(r[5], { error: { code: 'conflict', status: 409 } }, 'a new record with a live contact\'s email');
  t.match(r[6], { error: { code: 'conflict', errors: [{ path: 'externalIds.crm' }] } }, 'a new record with another\'s external id');
  t.equal(r[7]!.id, seed[2]!.id, 'a record gaining an external id is updated');
  t.match(r[8], { error: { code: 'conflict', status: 409 } }, 'an update to a taken email');
  t.match(r[9], { error: { code: 'validation_failed', errors: [{ path: 'externalIds.erp' }] } });

  const written = [r[1]!.id, r[2]!.id, r[7]!.id] as string[];
  const failedKeys = [`${u}-bad`, `${u}-nocompany`, `${u}-taken-email`, `${u}-taken-crm`];
  t.same(await rows(sql`SELECT external_id FROM external_ids WHERE external_id IN (${sql.join(failedKeys.map((k) => sql`${k}`), sql`, `)})`), [],
    'failed records hold no external id');
  t.same((await rows<{ system: string; external_id: string }>(sql`SELECT system, external_id FROM external_ids WHERE entity_id = ${r[7]!.id}::uuid ORDER BY system`)),
    [{ system: 'crm', external_id: `M-${u}` }, { system: 'erp', external_id: `${u}-3` }], 'the moved ids are in the side table');
  t.same((await rows<{ email: string }>(sql`SELECT email FROM contacts WHERE id = ${seed[4]!.id}::uuid`))[0], { email: `renamed.${u}@example.com` }, 'the refused update left the row');
  const audit = await rows<{ entity_id: string; action: string }>(sql`SELECT entity_id, action FROM audit_logs WHERE entity_id IN (${idList(written)}) AND request_id IS NOT NULL ORDER BY occurred_at`);
  t.same(audit.filter((a) => a.action === 'update').map((a) => a.entity_id).sort(), [r[1]!.id, r[7]!.id].sort(), 'one audit row per update');
  t.same(audit.filter((a) => a.action === 'create').map((a) => a.entity_id).sort(), [...written].sort(), 'one audit row per create (two of them seeds)');
  const events = await rows<{ entity_id: string; type: string }>(sql`SELECT entity_id, type FROM events WHERE entity_id IN (${idList([...written, seed[0]!.id as string])})`);
  t.equal(events.filter((e) => e.type === 'contact.updated').length, 2, 'one event per update, none for the unchanged record');
  t.equal(events.filter((e) => e.type === 'contact.created').length, 4, 'three seeds\' creates and the new record\'s');
  const [changed] = await rows<{ job_title: string; company_id: string; version: number }>(sql`SELECT job_title, company_id, version FROM contacts WHERE id = ${r[1]!.id}::uuid`);
  t.same(changed, { job_title: 'Buyer', company_id: company, version: 2 });
  t.ok((await verifyAuditChain(db.database.db)).ok, 'the audit chain verifies');
});

t.test('one key twice in a batch: the second record sees the first (record by record)', async (t) => {
  const u = randomUUID().slice(0, 8);
  const email = `twice.${u}@example.com`;
  const others = Array.from({ length: 8 }, (_, i) => ({ email: `other${i}.${u}@example.com`, firstName: 'Other' }));
  const r = await upsert('email', [{ email, firstName: 'One' }, ...others, { email, lastName: 'Two' }]);
  t.same(r.map((x) => x.status), ['created', ...others.map(() => 'created'), 'updated']);
  t.equal(r[0]!.id, r[9]!.id);
});

// 10 to 100: batches from 10 records go set-based; their duplicate lookups go 100 contacts a statement
t.test('the statements of a batch do not grow with its records', async (t) => {
  const batchOf = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ email: `${tag}.${i}@example.com`, firstName: `Count ${i}`, externalIds: { pos: `${tag}-${i}` } }));
  const tag = randomUUID().slice(0, 8);
  const small = await count(() => upsert('email', batchOf(10, `s${tag}`)));
  const large = await count(() => upsert('email', batchOf(100, `l${tag}`)));
  t.ok(large.result.every((x) => x.status === 'created'), 'all created');
  t.equal(large.statements, small.statements, `new rows: ${large.statements} statements for 100 records, as for 10`);
  const again = await count(() => upsert('email', batchOf(100, `l${tag}`).map((x) => ({ ...x, jobTitle: 'Again' }))));
  t.ok(again.result.every((x) => x.status === 'updated'), 'all updated');
  t.ok(again.statements <= small.statements, `updates: ${again.statements} statements for 100 records`);
});
