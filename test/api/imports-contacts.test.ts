import t from 'tap';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { createModules } from '../../src/app.js';
import type { Executor } from '../../src/platform/db/client.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';
import type { CustomerServices } from '../../src/modules/customer/index.js';
import type { PipelineServices } from '../../src/modules/pipeline/index.js';
import { createImportService } from '../../src/modules/integration/import.service.js';
import { importRows, imports as importTable } from '../../src/modules/integration/import.table.js';

// The contacts import path (COPY upload, chunks written in one transaction with their bookkeeping):
// the rules of the batch service row by row — validation errors, keys repeated in the file, rows that
// match existing contacts, custom fields, audit and events — and a chunk that dies before its commit
// leaving nothing behind, then applied exactly once on resume.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db as Executor;
const admin = h.user('admin');
const { all } = createModules({ config: h.config, db, signAccessToken: (c) => h.app.jwt.sign(c) });
const [, customer, pipeline] = all as unknown as [unknown, { services: CustomerServices }, { services: PipelineServices }];
const imports = createImportService({ db, customer: customer.services, pipeline: pipeline.services });
const drain = async (chunkRows?: number) => {
  while ((await imports.runDue(db, chunkRows ? { chunkRows } : {})) > 0);
};

const request = (method: 'GET' | 'POST', url: string, payload?: string, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...admin.auth, ...headers }, ...(payload === undefined ? {} : { payload }) });
async function upload(csv: string, requestId: string): Promise<string> {
  const res = await request('POST', '/v1/imports?entity=contacts&idProperty=email', csv, { 'content-type': 'text/csv', 'x-request-id': requestId });
  if (res.statusCode !== 202) throw new Error(`import refused: ${res.body}`);
  return res.json().id;
}
const job = async (id: string) => (await request('GET', `/v1/imports/${id}`)).json();
const byEmail = async (email: string) => (await request('GET', `/v1/contacts?filter[email][eq]=${encodeURIComponent(email)}`)).json().data;
const auditOf = (requestId: string) => db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId));
const eventsOf = (requestId: string) => db.select().from(events).where(eq(events.requestId, requestId));

await request('POST', '/v1/custom-fields', JSON.stringify({ entity: 'contact', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] }),
  { 'content-type': 'application/json' });

t.test('a mixed file: bad rows, a key repeated in the file, existing contacts, custom fields; audit and events per write', async (t) => {
  const existing = (await request('POST', '/v1/contacts', JSON.stringify({ firstName: 'Old', email: 'known@mixed.test' }), { 'content-type': 'application/json' })).json();
  const csv = 'email,firstName,phone,custom.tier\n'
    + 'a@mixed.test,A,,gold\n' // 1 created
    + 'not-an-email,Bad,,\n' // 2 invalid email
    + 'KNOWN@mixed.test,New,,silver\n' // 3 matches the existing contact (email is case-insensitive)
    + 'a@mixed.test,A2,,\n' // 4 the file's own row 1 again: an update of what row 1 wrote
    + 'b@mixed.test,B,12,\n' // 5 a phone that is not a number
    + 'c@mixed.test,C,,bronze\n' // 6 not an option of tier
    + 'A@MIXED.TEST,A3,,silver\n'; // 7 row 1's key a third time
  const id = await upload(csv, 'mixed-1');
  await drain(3); // chunks of 3 rows: rows 1 and 4 (and 7) meet across chunks and within one
  const done = await job(id);
  t.match(done, { status: 'completed', totalRows: 7, processed: 7, created: 1, updated: 3, failed: 3 });
  t.match(done.errors, [
    { row: 2, message: /email: must be an email address/ },
    { row: 5, message: /phone/ },
    { row: 6, message: /custom\.tier: must be one of gold, silver/ },
  ]);
  t.equal(done.errors.length, 3);
  t.match(await byEmail('a@mixed.test'), [{ firstName: 'A3', custom: { tier: 'silver' }, version: 3 }], 'later rows see what earlier rows wrote');
  t.match(await byEmail('known@mixed.test'), [{ id: existing.id, firstName: 'New', custom: { tier: 'silver' }, version: 2 }]);
  t.same(await byEmail('b@mixed.test'), []);

  const audit = await auditOf('mixed-1');
  t.same(audit.map((a) => a.action).sort(), ['create', 'update', 'update', 'update'], 'one audit row per write, none for refused rows');
  t.match(audit.find((a) => a.entityId === existing.id), { action: 'update', actorId: admin.id, before: { firstName: 'Old' }, after: { firstName: 'New' } });
  const evs = await eventsOf('mixed-1');
  t.same(evs.map((e) => e.type).sort(), ['contact.created', 'contact.updated', 'contact.updated', 'contact.updated']);
  t.equal((await db.select().from(importRows).where(eq(importRows.importId, id))).length, 0, 'applied rows are removed');
});

t.test('the same key many times in one chunk: applied in file order, no row lost', async (t) => {
  const lines = Array.from({ length: 30 }, (_, i) => `same@repeat.test,V${i}`);
  const id = await upload(`email,firstName\n${lines.join('\n')}\n`, 'repeat-1');
  await drain();
  t.match(await job(id), { status: 'completed', created: 1, updated: 29, failed: 0 });
  t.match(await byEmail('same@repeat.test'), [{ firstName: 'V29', version: 30 }]);
  t.equal((await auditOf('repeat-1')).length, 30);
});

t.test('a chunk that dies before its commit leaves nothing; the resumed job applies every row once', async (t) => {
  const n = 7;
  const lines = Array.from({ length: n }, (_, i) => `crash${i}@resume.test,C${i}`);
  await drain();
  const id = await upload(`email,firstName\n${lines.join('\n')}\n`, 'crash-1');
  t.equal(await imports.runDue(db, { maxChunks: 1, chunkRows: 3 }), 3, 'the first chunk commits');
  // the second chunk's bookkeeping (removing its rows) fails after its contacts, audit and events were
  // written in the same transaction: as a worker killed right before its commit
  await db.execute(sql.raw(`CREATE FUNCTION crash_import() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'worker killed'; END $$`));
  await db.execute(sql.raw(`CREATE TRIGGER crash_import BEFORE DELETE ON import_rows FOR EACH ROW EXECUTE FUNCTION crash_import()`));
  await t.rejects(imports.runDue(db, { chunkRows: 3 }), /worker killed|Failed query/);
  await db.execute(sql.raw('DROP TRIGGER crash_import ON import_rows'));
  await db.execute(sql.raw('DROP FUNCTION crash_import()'));

  const emails = lines.map((l) => l.split(',')[0]!);
  const written = await db.execute(sql`SELECT count(*)::int AS n FROM contacts WHERE email LIKE '%@resume.test'`);
  t.equal((written as unknown as { rows: { n: number }[] }).rows[0]!.n, 3, 'only the committed chunk\'s contacts exist');
  t.equal((await auditOf('crash-1')).length, 3, 'and only its audit rows');
  t.equal((await eventsOf('crash-1')).length, 3, 'and only its events');
  const [mid] = await db.select().from(importTable).where(eq(importTable.id, id));
  t.match(mid, { status: 'running', processed: 3, created: 3 });

  await db.update(importTable).set({ leaseUntil: new Date(Date.now() - 1000) }).where(eq(importTable.id, id)); // the lease runs out
  await drain(3);
  t.match(await job(id), { status: 'completed', processed: n, created: n, updated: 0, failed: 0 });
  const creates = await db.select().from(auditLogs).where(and(eq(auditLogs.requestId, 'crash-1'), eq(auditLogs.action, 'create')));
  t.equal(creates.length, n, 'one create per row, none twice');
  const contacts = (await request('GET', `/v1/contacts?filter[email][in]=${emails.join(',')}&limit=100`)).json().data;
  t.equal(contacts.length, n);
  t.equal((await db.select().from(events).where(and(eq(events.requestId, 'crash-1'), inArray(events.type, ['contact.created'])))).length, n);
});

t.test('an upload refused half-way (a broken row after many good ones) stores nothing', async (t) => {
  const before = (await db.select().from(importTable)).length;
  const good = Array.from({ length: 25_000 }, (_, i) => `half${i}@refused.test,H`).join('\n');
  const res = await request('POST', '/v1/imports?entity=contacts&idProperty=email', `email,firstName\n${good}\nbroken@refused.test,"unclosed\n`,
    { 'content-type': 'text/csv' });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'body' }] });
  t.equal((await db.select().from(importTable)).length, before, 'no job');
  const rows = await db.execute(sql`SELECT count(*)::int AS n FROM import_rows`);
  t.equal((rows as unknown as { rows: { n: number }[] }).rows[0]!.n, 0, 'no stored rows (the first COPY of 20 000 rolled back with the job)');
  t.equal((await request('GET', '/v1/imports?limit=1')).statusCode, 200, 'the connection that ran the aborted COPY serves requests again');
});
