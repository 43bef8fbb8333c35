import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { sealAuditLog, verifyAuditChain } from '../../src/platform/audit/chain.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { sequenceEvents } from '../../src/platform/events/sequencer.js';

// GDPR (API.md §4, issue #5): the export is everything held about the person in one document; the
// erasure removes their personal data from every table — live records, the audit log, the outbox and
// cached copies — keeps non-personal aggregates, audits itself, and leaves the audit chain verifiable.

const h = await startTestApp({ env: { DEFAULT_PHONE_REGION: 'SA' } });
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const manager = h.user('manager');
type Who = { auth: Record<string, string> };
const rows = async <T = Record<string, unknown>>(q: ReturnType<typeof sql>) => (await queryRows<T>(db, q)).rows;

const send = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, who: Who | null = admin, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...(who?.auth ?? {}), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
async function created(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await send('POST', url, body, admin, headers);
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`POST ${url} failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Every place in the database where a value mentions `needle`: table names with a count. */
async function foundAnywhere(needle: string): Promise<Record<string, number>> {
  const tables = await rows<{ name: string }>(sql`SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_\\_%'`);
  const hits: Record<string, number> = {};
  for (const { name } of tables) {
    const [r] = await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM ${sql.identifier(name)} x WHERE lower(x::text) LIKE ${`%${needle.toLowerCase()}%`}`);
    if (r && r.n > 0) hits[name] = r.n;
  }
  return hits;
}

/** A person with data in every corner: merged duplicate, activities, order, points, feedback, lead, deal, idempotent create. */
async function makePerson(tag: string) {
  const email = `zainab.${tag}@example.com`;
  const altEmail = `z.${tag}@example.org`;
  const last = `Qureshi${tag}`;
  const n = tag.replace(/\D/g, '');
  const phone = `0550009${n}${n}${n}`;
  const contact = await created('/v1/contacts', {
    firstName: `زينب${tag}`, lastName: last, email, phone, jobTitle: 'Buyer', address: { line1: `${tag} Olaya Street`, city: 'Riyadh', country: 'SA' },
  }, { 'idempotency-key': `gdpr-${tag}` });
  const duplicate = await created('/v1/contacts', { firstName: 'Zainab', lastName: last, email: altEmail });
  await created('/v1/contacts/merge', { primaryId: contact.id, duplicateIds: [duplicate.id] });
  await created('/v1/activities', { type: 'note', contactId: contact.id, subject: `Call with زينب${tag} ${last}`, body: `Asked to call back on ${phone}` });
  const other = await created('/v1/contacts', { firstName: 'Other', lastName: `Person${tag}` });
  await created('/v1/activities', { type: 'note', contactId: other.id, subject: 'Referral', body: `Referred by ${email}, a friend` });
  const order = await created('/v1/orders', {
    contactId: contact.id, externalId: `ord-${tag}`, status: 'paid', total: '120.500', currency: 'KWD',
    lines: [{ name: 'Lamp', quantity: 1, unitPrice: '120.500' }],
  });
  await created(`/v1/contacts/${contact.id}/loyalty/transactions`, { points: 40, reason: 'welcome' });
  const fb = await created('/v1/feedback', { type: 'nps', score: 9, comment: `Love it — ${last}`, contactId: contact.id });
  const lead = await created('/v1/leads', { firstName: `زينب${tag}`, lastName: last, email });
  const pipeline = await created('/v1/pipelines', { name: `P ${tag}`, stages: [{ name: 'Open', probability: 10 }] });
  const converted = await created(`/v1/leads/${lead.id}/convert`, { pipelineId: pipeline.id });
  return { email, altEmail, last, phone, contact, duplicate, other, order, fb, lead, deal: converted.deal };
}

t.test('export: one document with everything held about the person; admin and manager; audited', async (t) => {
  const p = await makePerson('exp1');
  const res = await send('GET', `/v1/contacts/${p.duplicate.id}/export`, undefined, manager);
  t.equal(res.statusCode, 200, 'a merged id exports the surviving person');
  const doc = res.json();
  t.match(doc.contact, { id: p.contact.id, email: p.email, lastName: p.last });
  t.same(doc.mergedContacts.map((c: { id: string }) => c.id), [p.duplicate.id]);
  t.equal(doc.activities.length, 1, "the person's own activities (not the other contact's)");
  t.match(doc.orders, [{ id: p.order.id, total: '120.500', currency: 'KWD', lines: [{ name: 'Lamp' }] }]);
  t.equal(doc.loyalty.balance, 40);
  t.match(doc.feedback, [{ id: p.fb.id, score: 9 }]);
  t.match(doc.consent, { emailOptIn: false, smsOptIn: false });
  t.ok(doc.history.some((a: { action: string }) => a.action === 'create'), 'the audit history of the contact');
  t.same(doc.pipeline.leads.map((l: { id: string }) => l.id), [p.lead.id]);
  t.same(doc.pipeline.deals.map((d: { id: string }) => d.id), [p.deal.id]);
  const audited = await rows<{ actor_id: string }>(sql`SELECT actor_id FROM audit_logs WHERE action = 'export' AND entity_id = ${p.contact.id}`);
  t.same(audited.map((a) => a.actor_id), [manager.id]);

  const gql = await h.gql(admin, 'query($id: ID!) { contactExport(id: $id) }', { id: p.contact.id });
  t.match(gql.body.data?.contactExport, { contact: { id: p.contact.id }, pipeline: { deals: [{ id: p.deal.id }] } });
  t.equal((await send('GET', `/v1/contacts/${randomUUID()}/export`)).statusCode, 404);
});

t.test('roles: export for admin and manager, erase for admin only; others 403; no token 401 (REST and GraphQL)', async (t) => {
  const c = await created('/v1/contacts', { firstName: 'Role', lastName: 'Check' });
  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    const who = h.user(role);
    t.equal((await send('GET', `/v1/contacts/${c.id}/export`, undefined, who)).statusCode, 403, `${role} may not export`);
    t.equal((await send('POST', `/v1/contacts/${c.id}/erase`, undefined, who)).statusCode, 403, `${role} may not erase`);
    const g = await h.gql(who, 'query($id: ID!) { contactExport(id: $id) }', { id: c.id });
    t.equal(g.body.errors?.[0]?.extensions.code, 'forbidden');
  }
  const byManager = await send('POST', `/v1/contacts/${c.id}/erase`, undefined, manager);
  t.equal(byManager.statusCode, 403, 'manager reads only (API.md §4)');
  const g = await h.gql(manager, 'mutation($id: ID!) { eraseContact(id: $id) { id } }', { id: c.id });
  t.equal(g.body.errors?.[0]?.extensions.code, 'forbidden');
  t.equal((await send('GET', `/v1/contacts/${c.id}/export`, undefined, null)).statusCode, 401);
  t.equal((await send('POST', `/v1/contacts/${c.id}/erase`, undefined, null)).statusCode, 401);
  const still = await send('GET', `/v1/contacts/${c.id}`);
  t.equal(still.json().lastName, 'Check', 'refused erasures changed nothing');
});

t.test('erase: nothing of the person is left anywhere; aggregates stay; the chain verifies', async (t) => {
  const p = await makePerson('era2');
  await sequenceEvents(db);
  await sealAuditLog(db);
  const needles = [p.email, p.altEmail, p.phone.slice(1), p.last, 'زينبera2'];
  for (const n of needles) t.not(Object.keys(await foundAnywhere(n)).length, 0, `${n} is stored somewhere before`);

  const res = await send('POST', `/v1/contacts/${p.contact.id}/erase`);
  t.equal(res.statusCode, 200);
  t.match(res.json(), { id: p.contact.id, contactIds: [p.contact.id, p.duplicate.id] });
  t.ok(res.json().auditRows > 5 && res.json().events > 5, 'audit rows and events were scrubbed');
  await sequenceEvents(db);

  for (const n of needles) t.same(await foundAnywhere(n), {}, `${n} is found nowhere after the erasure`);

  const order = (await send('GET', `/v1/orders/${p.order.id}`)).json();
  t.match(order, { total: '120.500', currency: 'KWD', contactId: p.contact.id }, "the order's total stays in revenue");
  const fb = (await send('GET', `/v1/feedback/${p.fb.id}`)).json();
  t.match(fb, { score: 9, comment: null }, 'the score stays, the words go');
  const gone = await send('GET', `/v1/contacts/${p.contact.id}`);
  t.equal(gone.statusCode, 404);
  t.match(await rows(sql`SELECT erased_at, deleted_at FROM contacts WHERE id = ${p.contact.id}`), [{ erased_at: /./, deleted_at: /./ }]);
  const deal = (await send('GET', `/v1/deals/${p.deal.id}`)).json();
  t.equal(deal.name, '[erased] deal', "a deal named after the person loses the name, not the deal");

  const erasure = await rows<{ action: string; before: unknown }>(sql`SELECT action, before FROM audit_logs WHERE entity_id = ${p.contact.id} AND action = 'erase'`);
  t.equal(erasure.length, 1, 'the erasure itself is audited');
  const [event] = await rows<{ type: string }>(sql`SELECT type FROM events WHERE entity_id = ${p.contact.id} ORDER BY seq DESC LIMIT 1`);
  t.equal(event?.type, 'contact.erased');

  const report = await verifyAuditChain(db);
  t.ok(report.ok, `the audit chain verifies after the erasure (${JSON.stringify(report.firstBroken ?? {})})`);
  t.equal((await send('POST', `/v1/contacts/${p.contact.id}/erase`)).statusCode, 409, 'a second erasure is a conflict');

  if (h.db.url) {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/audit-verify.ts'], { env: { ...process.env, DATABASE_URL: h.db.url } });
    t.match(stdout, /audit chain intact/, 'npm run audit:verify passes');
  }
});

t.test('an erased row is still tamper-evident: its kept digests and remaining values are sealed', async (t) => {
  const p = await makePerson('tam3');
  await sealAuditLog(db);
  await send('POST', `/v1/contacts/${p.contact.id}/erase`);
  await sealAuditLog(db);
  t.ok((await verifyAuditChain(db)).ok);
  const [row] = await rows<{ id: string; redacted: { after?: Record<string, string> }; after: unknown }>(sql`
    SELECT id, redacted, after FROM audit_logs WHERE entity_id = ${p.contact.id} AND action = 'create' AND redacted IS NOT NULL`);
  t.ok(row?.redacted.after?.email, 'the email digest is kept');
  const tamper = async (q: ReturnType<typeof sql>) => {
    await db.execute(sql`ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only`);
    await db.execute(q);
    await db.execute(sql`ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only`);
  };
  const original = JSON.stringify(row?.redacted);
  await tamper(sql`UPDATE audit_logs SET redacted = jsonb_set(redacted, '{after,email}', '"0000"') WHERE id = ${row?.id}`);
  t.match((await verifyAuditChain(db)).firstBroken, { id: row?.id, reason: /content/ }, 'a forged digest breaks the chain');
  await tamper(sql`UPDATE audit_logs SET redacted = ${original}::jsonb WHERE id = ${row?.id}`);
  t.ok((await verifyAuditChain(db)).ok, 'restored');
  await tamper(sql`UPDATE audit_logs SET after = jsonb_set(after, '{jobTitle}', '"CEO"') WHERE id = ${row?.id}`);
  t.match((await verifyAuditChain(db)).firstBroken, { id: row?.id }, 'a value written where one was erased breaks the chain');
  await tamper(sql`UPDATE audit_logs SET after = jsonb_set(after, '{jobTitle}', 'null') WHERE id = ${row?.id}`);
  t.ok((await verifyAuditChain(db)).ok, 'restored');
  await tamper(sql`UPDATE audit_logs SET after = jsonb_set(after, '{lifecycleStage}', '"customer"') WHERE id = ${row?.id}`);
  t.match((await verifyAuditChain(db)).firstBroken, { id: row?.id }, 'a changed kept value breaks the chain');
  await tamper(sql`UPDATE audit_logs SET after = ${JSON.stringify(row?.after)}::jsonb WHERE id = ${row?.id}`);
  t.ok((await verifyAuditChain(db)).ok, 'restored');
});

t.test('the database refuses audit changes outside an erasure, and erasure-mode changes to anything but values', async (t) => {
  const [row] = await rows<{ id: string }>(sql`SELECT id FROM audit_logs WHERE before IS NOT NULL OR after IS NOT NULL LIMIT 1`);
  await t.rejects(db.execute(sql`UPDATE audit_logs SET after = '{}'::jsonb, redacted = '{}'::jsonb WHERE id = ${row?.id}`), 'no erasure declared');
  await t.rejects(db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL crm.audit_erasure = 'on'`);
    await tx.execute(sql`UPDATE audit_logs SET action = 'forged', redacted = '{}'::jsonb WHERE id = ${row?.id}`);
  }), 'an erasure may not change the action');
  await t.rejects(db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL crm.audit_erasure = 'on'`);
    await tx.execute(sql`DELETE FROM audit_logs WHERE id = ${row?.id}`);
  }), 'nor delete');
});

t.test('rows sealed in format 1 (before per-field digests) still verify and still detect tampering', async (t) => {
  await sealAuditLog(db);
  const id = randomUUID();
  await db.insert(auditLogs).values({ id, actorType: 'system', actorId: 'system', action: 'legacy', entityType: 'contact', entityId: randomUUID(), before: null, after: { a: 1 }, hashFormat: 1 });
  await sealAuditLog(db);
  t.ok((await verifyAuditChain(db)).ok);
  await db.execute(sql`ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only`);
  await db.execute(sql`UPDATE audit_logs SET after = '{"a": 2}'::jsonb WHERE id = ${id}`);
  await db.execute(sql`ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only`);
  t.match((await verifyAuditChain(db)).firstBroken, { id });
  await db.execute(sql`ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only`);
  await db.execute(sql`UPDATE audit_logs SET after = '{"a": 1}'::jsonb WHERE id = ${id}`);
  await db.execute(sql`ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only`);
});

t.test('GraphQL erase mirrors REST', async (t) => {
  const p = await makePerson('gql4');
  const res = await h.gql(admin, 'mutation($id: ID!) { eraseContact(id: $id) { id contactIds records auditRows events } }', { id: p.contact.id });
  t.match(res.body.data?.eraseContact, { id: p.contact.id, contactIds: [p.contact.id, p.duplicate.id] });
  t.same(await foundAnywhere(p.email), {});
  const again = await h.gql(admin, 'mutation($id: ID!) { eraseContact(id: $id) { id } }', { id: p.contact.id });
  t.equal(again.body.errors?.[0]?.extensions.code, 'conflict');
  const missing = await h.gql(admin, 'mutation($id: ID!) { eraseContact(id: $id) { id } }', { id: randomUUID() });
  t.equal(missing.body.errors?.[0]?.extensions.code, 'not_found');
});
