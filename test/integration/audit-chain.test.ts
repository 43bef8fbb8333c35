import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import t from 'tap';
import { sql } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { queryRows } from '../../src/platform/db/execute.js';
import { sealAuditLog, verifyAuditChain } from '../../src/platform/audit/chain.js';
import { startTestApp } from '../helpers/app.js';

// The audit log: one row per change, written in the change's own transaction; a hash chain sealed
// after commit that names the first row edited behind the application's back; rows the database
// itself refuses to update or delete; the admin-only reading endpoint; and no secrets in any row.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;
const IP = '203.0.113.7';
const AGENT = 'audit-test/1.0';

interface AuditRow {
  id: string;
  action: string;
  entity_type: string;
  entity_id: string;
  actor_type: string;
  actor_id: string | null;
  actor_role: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  seq: number | null;
}

const rowsOf = async (requestId: string) =>
  (await queryRows<AuditRow>(db, sql`SELECT * FROM audit_logs WHERE request_id = ${requestId} ORDER BY occurred_at, id`)).rows;

/** Sends a request under a request id of its own and answers with the audit rows written under it. */
async function audited(o: InjectOptions & { who?: { auth: { authorization: string } } }) {
  const requestId = `audit-${randomUUID()}`;
  const { who = admin, headers, ...rest } = o;
  const res = await h.request({ ...rest, remoteAddress: IP, headers: { ...who.auth, 'x-request-id': requestId, 'user-agent': AGENT, ...headers } });
  return { res, rows: await rowsOf(requestId), requestId };
}

/** The database's own message when it refuses a statement (drizzle wraps it as the cause). */
async function refusal(statement: ReturnType<typeof sql>): Promise<string> {
  try {
    await db.execute(statement);
    return 'executed';
  } catch (e) {
    const err = e as Error & { cause?: Error };
    return `${err.message} ${err.cause?.message ?? ''}`;
  }
}

const domain = () => `${randomUUID().slice(0, 8)}.audit.example`;

async function company(body: Record<string, unknown> = {}) {
  const res = await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: 'Audited Co', domain: domain(), ...body } });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json() as { id: string; domain: string; version: number };
}

t.test('every company mutation writes exactly one audit row carrying actor, request id and ip', async (t) => {
  const created = await audited({ method: 'POST', url: '/v1/companies', payload: { name: 'Audit One', domain: domain() } });
  t.equal(created.res.statusCode, 201);
  const id = created.res.json().id;
  t.equal(created.rows.length, 1, 'create: one row');
  t.match(created.rows[0], {
    action: 'create', entity_type: 'company', entity_id: id, actor_type: 'user', actor_id: admin.id, actor_role: 'admin',
    before: null, after: { id, name: 'Audit One' }, request_id: created.requestId, ip: IP, user_agent: AGENT,
  });

  const patched = await audited({ method: 'PATCH', url: `/v1/companies/${id}`, payload: { industry: 'energy' } });
  t.equal(patched.res.statusCode, 200);
  t.equal(patched.rows.length, 1, 'update: one row');
  t.match(patched.rows[0], { action: 'update', entity_id: id });
  t.same(patched.rows[0]?.before, { industry: null }, 'an update records only the changed fields');
  t.same(patched.rows[0]?.after, { industry: 'energy' });

  const noop = await audited({ method: 'PATCH', url: `/v1/companies/${id}`, payload: { industry: 'energy' } });
  t.equal(noop.res.statusCode, 200);
  t.equal(noop.rows.length, 0, 'a patch that changes nothing records nothing');

  const deleted = await audited({ method: 'DELETE', url: `/v1/companies/${id}` });
  t.equal(deleted.res.statusCode, 204);
  t.match(deleted.rows, [{ action: 'delete', entity_id: id }]);
  t.equal(deleted.rows.length, 1, 'delete: one row');

  const restored = await audited({ method: 'POST', url: `/v1/companies/${id}/restore` });
  t.equal(restored.res.statusCode, 200);
  t.match(restored.rows, [{ action: 'restore', entity_id: id }]);
  t.equal(restored.rows.length, 1, 'restore: one row');
  const again = await audited({ method: 'POST', url: `/v1/companies/${id}/restore` });
  t.equal(again.rows.length, 0, 'restoring a live record records nothing');

  const viaGraphql = await audited({ method: 'POST', url: '/graphql', payload: { query: 'mutation { createCompany(input: { name: "Audit GQL" }) { id } }' } });
  const gqlId = viaGraphql.res.json().data.createCompany.id;
  t.match(viaGraphql.rows, [{ action: 'create', entity_id: gqlId, request_id: viaGraphql.requestId, ip: IP }]);
  t.equal(viaGraphql.rows.length, 1, 'GraphQL writes audit the same way');
});

t.test('a batch writes one row per record written, none for the records that failed', async (t) => {
  const existing = await company();
  const batch = await audited({
    method: 'POST', url: '/v1/companies/batch',
    payload: { operation: 'create', records: [{ name: 'Batch A', domain: domain() }, { name: '' }, { name: 'Batch C', domain: domain() }] },
  });
  t.equal(batch.res.statusCode, 200);
  const results = batch.res.json().results as { status: string; id?: string }[];
  t.same(results.map((r) => r.status), ['created', 'error', 'created']);
  t.same(batch.rows.map((r) => r.entity_id).sort(), [results[0]?.id, results[2]?.id].sort(), 'one row per created record');
  t.ok(batch.rows.every((r) => r.action === 'create'));

  const upsert = await audited({
    method: 'POST', url: '/v1/companies/batch',
    payload: { operation: 'upsert', idProperty: 'domain', records: [{ domain: existing.domain, industry: 'retail' }, { domain: domain(), name: 'Upserted' }] },
  });
  t.same(upsert.res.json().results.map((r: { status: string }) => r.status), ['updated', 'created']);
  t.same(upsert.rows.map((r) => r.action).sort(), ['create', 'update']);

  const del = await audited({ method: 'POST', url: '/v1/companies/batch', payload: { operation: 'delete', records: [{ id: existing.id }, { id: randomUUID() }] } });
  t.same(del.res.json().results.map((r: { status: string }) => r.status), ['deleted', 'error']);
  t.match(del.rows, [{ action: 'delete', entity_id: existing.id }]);
  t.equal(del.rows.length, 1);
});

t.test('a failed write leaves no audit row', async (t) => {
  const c = await company();
  const sales = h.user('sales');
  const failures: [string, InjectOptions & { who?: typeof admin }, number][] = [
    ['invalid body', { method: 'POST', url: '/v1/companies', payload: { name: '' } }, 400],
    ['duplicate domain (refused by the database mid-transaction)', { method: 'POST', url: '/v1/companies', payload: { name: 'Dup', domain: c.domain } }, 409],
    ['stale If-Match', { method: 'PATCH', url: `/v1/companies/${c.id}`, headers: { 'if-match': '"9"' }, payload: { industry: 'x' } }, 412],
    ['a role that may not write', { method: 'POST', url: '/v1/companies', payload: { name: 'Viewer' }, who: h.user('viewer') }, 403],
    ['out of the caller\'s write scope', { method: 'PATCH', url: `/v1/companies/${c.id}`, payload: { industry: 'x' }, who: sales }, 403],
    ['restore by a non-manager', { method: 'POST', url: `/v1/companies/${c.id}/restore`, who: sales }, 403],
    ['delete of an unknown id', { method: 'DELETE', url: `/v1/companies/${randomUUID()}` }, 404],
  ];
  for (const [what, req, status] of failures) {
    const r = await audited(req);
    t.equal(r.res.statusCode, status, what);
    t.same(r.rows, [], `${what}: no audit row`);
  }

  // Atomic: the first records are inserted (with their audit rows) before the last one fails; the
  // rollback must take the audit rows with them.
  const d1 = domain();
  const atomic = await audited({
    method: 'POST', url: '/v1/companies/batch',
    payload: { operation: 'create', atomic: true, records: [{ name: 'Atomic A', domain: d1 }, { name: 'Atomic B', domain: domain() }, { name: 'Atomic C', domain: c.domain }] },
  });
  t.not(atomic.res.statusCode, 200, 'the atomic batch fails as a whole');
  t.same(atomic.rows, [], 'no audit row survives the rollback');
  const { rows } = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM companies WHERE domain = ${d1}`);
  t.equal(rows[0]?.n, 0, 'and no company either');
});

t.test('sealing chains the rows; verification walks the chain', async (t) => {
  const c = await company();
  const sealed = await sealAuditLog(db);
  t.ok(sealed >= 1, 'pending rows were sealed');
  const { rows } = await queryRows<{ seq: number | null; hash: string | null; prev_hash: string | null }>(
    db, sql`SELECT seq, hash, prev_hash FROM audit_logs WHERE entity_id = ${c.id}`,
  );
  t.ok(rows.length === 1 && rows[0]?.seq !== null && /^[0-9a-f]{64}$/.test(rows[0]?.hash ?? ''), 'the row has its place and hash');
  const report = await verifyAuditChain(db);
  t.same(report.firstBroken, undefined);
  t.equal(report.ok, true);
  t.ok(report.checked >= sealed);
  t.equal(await sealAuditLog(db), 0, 'nothing left to seal');
});

t.test('the application cannot update, delete or truncate audit rows', async (t) => {
  const c = await company();
  const unsealed = (await queryRows<{ id: string }>(db, sql`SELECT id FROM audit_logs WHERE entity_id = ${c.id}`)).rows[0]?.id as string;
  await sealAuditLog(db);
  const c2 = await company();
  const pending = (await queryRows<{ id: string }>(db, sql`SELECT id FROM audit_logs WHERE entity_id = ${c2.id}`)).rows[0]?.id as string;

  t.match(await refusal(sql`UPDATE audit_logs SET action = 'nothing' WHERE id = ${unsealed}`), /append-only/, 'UPDATE of a sealed row');
  t.match(await refusal(sql`DELETE FROM audit_logs WHERE id = ${unsealed}`), /append-only/, 'DELETE');
  t.match(await refusal(sql`TRUNCATE audit_logs`), /append-only/, 'TRUNCATE');
  t.match(await refusal(sql`UPDATE audit_logs SET seq = 999999, hash = 'x', prev_hash = 'y', after = '{}' WHERE id = ${pending}`), /append-only/,
    'sealing an unsealed row while changing its content');
  t.match(await refusal(sql`UPDATE audit_logs SET seq = NULL WHERE id = ${unsealed}`), /append-only/, 'unsealing a row');
  const after = (await queryRows<{ action: string; seq: number | null }>(db, sql`SELECT action, seq FROM audit_logs WHERE id IN (${unsealed}, ${pending}) ORDER BY seq NULLS LAST`)).rows;
  t.same(after.map((r) => r.action), ['create', 'create'], 'both rows are as they were');
  t.equal((await verifyAuditChain(db)).ok, true);
});

t.test('GET /v1/audit-logs: filters, newest first, cursor paging, admin only', async (t) => {
  const actor = h.user('admin'); // an actor of its own, so actorId selects exactly this test's rows
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await h.request({ method: 'POST', url: '/v1/companies', headers: actor.auth, payload: { name: `Listed ${i}`, domain: domain() } });
    ids.push(res.json().id);
  }
  await h.request({ method: 'PATCH', url: `/v1/companies/${ids[0]}`, headers: actor.auth, payload: { employees: 5 } });
  const list = (query: Record<string, string>, who = admin) => h.request({ method: 'GET', url: '/v1/audit-logs', headers: who.auth, query });

  const byActor = await list({ actorId: actor.id });
  t.equal(byActor.statusCode, 200);
  const all = byActor.json().data as { id: string; occurredAt: string; entityId: string; action: string; actorId: string }[];
  t.equal(all.length, 4);
  t.ok(all.every((r) => r.actorId === actor.id));
  t.same([...all].sort((a, b) => b.occurredAt.localeCompare(a.occurredAt)).map((r) => r.id), all.map((r) => r.id), 'newest first');
  t.match(all[0], { action: 'update', entityId: ids[0], entityType: 'company', actorType: 'user', before: { employees: null }, after: { employees: 5 } });
  t.match(all[0], { requestId: /^\S+$/, ip: '127.0.0.1' }, 'request id and ip are part of every entry');

  const byEntity = await list({ entityType: 'company', entityId: ids[0] as string });
  t.same(byEntity.json().data.map((r: { action: string }) => r.action), ['update', 'create']);
  t.same((await list({ entityType: 'user', entityId: ids[0] as string })).json().data, [], 'entityType narrows too');
  t.same((await list({ actorId: actor.id, action: 'update' })).json().data.map((r: { entityId: string }) => r.entityId), [ids[0]]);

  const pivot = all[1]?.occurredAt as string;
  const from = await list({ actorId: actor.id, from: pivot });
  t.same(from.json().data.map((r: { id: string }) => r.id), all.filter((r) => r.occurredAt >= pivot).map((r) => r.id), 'from is inclusive');
  const to = await list({ actorId: actor.id, to: pivot });
  t.same(to.json().data.map((r: { id: string }) => r.id), all.filter((r) => r.occurredAt < pivot).map((r) => r.id), 'to is exclusive');

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await list({ actorId: actor.id, limit: '3', ...(cursor ? { cursor } : {}) });
    t.equal(page.statusCode, 200);
    seen.push(...page.json().data.map((r: { id: string }) => r.id));
    cursor = page.json().nextCursor;
    pages++;
  } while (cursor && pages < 5);
  t.equal(pages, 2);
  t.same(seen, all.map((r) => r.id), 'pages join up to the whole list, in order, without repeats');

  t.equal((await list({ entityId: 'not-a-uuid' })).statusCode, 400);
  t.equal((await list({ password: 'x' })).statusCode, 400, 'unknown parameters are refused');
  for (const role of ['manager', 'sales', 'support', 'marketing', 'viewer'] as const) {
    const res = await list({ actorId: actor.id }, h.user(role));
    t.equal(res.statusCode, 403, `${role} may not read the audit log`);
  }
  t.equal((await h.request({ method: 'GET', url: '/v1/audit-logs' })).statusCode, 401);
});

t.test('no password, token, key or hash ever lands in an audit row', async (t) => {
  const email = `secret-${randomUUID().slice(0, 8)}@audit.example`;
  const first = `first-Passw0rd-${randomUUID()}`;
  const second = `second-Passw0rd-${randomUUID()}`;
  const third = `third-Passw0rd-${randomUUID()}`;
  const user = await h.request({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email, password: first, name: 'Secretive', role: 'sales' } });
  t.equal(user.statusCode, 201);
  const id = user.json().id;
  const changed = await h.request({ method: 'PATCH', url: `/v1/users/${id}`, headers: admin.auth, payload: { password: second } });
  t.equal(changed.statusCode, 200);
  const gql = await h.gql(admin, 'mutation($p: String!, $e: String!) { createUser(input: { email: $e, password: $p, name: "G", role: viewer }) { id } }', { p: third, e: `g-${email}` });
  t.type(gql.body.data?.createUser.id, 'string');
  const key = (await h.request({ method: 'POST', url: '/v1/api-keys', headers: admin.auth, payload: { name: 'audited key', role: 'viewer' } })).json();
  const login = await h.request({ method: 'POST', url: '/v1/auth/login', payload: { email, password: second } });
  const pair = login.json();

  const { rows } = await queryRows<{ j: string }>(db, sql`SELECT row_to_json(a)::text AS j FROM audit_logs a`);
  const text = rows.map((r) => r.j).join('\n');
  t.ok(text.includes(id), 'the user\'s rows are there to search');
  t.ok(text.includes(key.id), 'and the key\'s');
  const hashes = (await queryRows<{ h: string }>(db, sql`SELECT password_hash AS h FROM users WHERE id = ${id}`)).rows.map((r) => r.h);
  for (const [what, secret] of [['first password', first], ['changed password', second], ['GraphQL password', third], ['API key', key.key],
    ['refresh token', pair.refreshToken], ['access token', pair.accessToken], ['password hash', hashes[0] as string]] as const) {
    t.notOk(text.includes(secret), `${what} is in no audit row`);
  }
  const update = (await queryRows<AuditRow>(db, sql`SELECT * FROM audit_logs WHERE entity_id = ${id} AND action = 'update'`)).rows;
  t.match(update, [{ after: { password: '[changed]' } }], 'the change itself is recorded, without the value');
});

t.test('editing a sealed row behind the trigger is detected and the row named', async (t) => {
  const victim = await company({ name: 'Victim Co' });
  await company({ name: 'After Victim' });
  await sealAuditLog(db);
  t.equal((await verifyAuditChain(db)).ok, true, 'intact before');
  const target = (await queryRows<{ id: string; seq: number; after: string }>(db, sql`SELECT id, seq, after::text AS after FROM audit_logs WHERE entity_id = ${victim.id}`)).rows[0];
  if (!target) throw new Error('no audit row for the victim');

  // The database owner can switch triggers off for a session: the chain is the defence left.
  const asOwner = (statement: ReturnType<typeof sql>) =>
    db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL session_replication_role = replica`);
      await tx.execute(statement);
    });
  await asOwner(sql`UPDATE audit_logs SET after = jsonb_set(after, '{name}', '"Innocent Co"') WHERE id = ${target.id}`);

  const report = await verifyAuditChain(db);
  t.equal(report.ok, false);
  t.match(report.firstBroken, { id: target.id, seq: target.seq, reason: /content/ });

  const api = await h.request({ method: 'POST', url: '/v1/audit-logs/verify', headers: admin.auth });
  t.equal(api.statusCode, 200);
  t.match(api.json(), { ok: false, firstBroken: { id: target.id, seq: target.seq } });
  t.equal((await h.request({ method: 'POST', url: '/v1/audit-logs/verify', headers: h.user('manager').auth })).statusCode, 403);

  if (h.db.url) {
    // npm run audit:verify against this very database: exit 1, naming the row.
    const run = await promisify(execFile)('npx', ['tsx', 'src/cli/audit-verify.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, DATABASE_URL: h.db.url, NODE_ENV: 'test', LOG_LEVEL: 'silent' },
    }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    t.equal(run.code, 1, 'the CLI exits 1');
    t.match(run.stderr, target.id, 'and names the row');
  } else {
    t.comment('audit:verify CLI not run: the test database is in-process PGlite, which no other process can open');
  }

  await asOwner(sql`UPDATE audit_logs SET after = ${target.after}::jsonb WHERE id = ${target.id}`);
  t.equal((await verifyAuditChain(db)).ok, true, 'putting the content back restores the chain: detection is by content');

  await asOwner(sql`DELETE FROM audit_logs WHERE id = ${target.id}`);
  const gone = await verifyAuditChain(db);
  t.equal(gone.ok, false, 'a deleted row breaks the chain too');
  t.match(gone.firstBroken, { seq: target.seq, reason: /missing/ });
});
