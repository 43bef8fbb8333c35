import { createHash, randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/platform/db/execute.js';
import { startTestApp } from '../helpers/app.js';

// API keys (API.md §4, §5b): shown once with a crm_ prefix, stored hashed, used as a Bearer token with
// exactly the permissions of their role, last use recorded, revocable, optional expiry.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;

interface CreatedKey {
  id: string;
  name: string;
  role: string;
  key: string;
  prefix: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

async function createKey(role: string, extra: Record<string, unknown> = {}): Promise<CreatedKey> {
  const res = await h.request({ method: 'POST', url: '/v1/api-keys', headers: admin.auth, payload: { name: `${role} key ${randomUUID().slice(0, 6)}`, role, ...extra } });
  if (res.statusCode !== 201) throw new Error(`key create failed: ${res.body}`);
  return res.json();
}

const withKey = (key: string) => ({ authorization: `Bearer ${key}` });
const listKeys = async () => (await h.request({ method: 'GET', url: '/v1/api-keys', headers: admin.auth, query: { limit: '200' } }));

/** touchApiKey runs after the response; wait (boundedly) until the write has landed. */
async function lastUsedAtOf(id: string): Promise<string | null> {
  for (let i = 0; i < 100; i++) {
    const { rows } = await queryRows<{ last_used_at: Date | null }>(db, sql`SELECT last_used_at FROM api_keys WHERE id = ${id}`);
    if (rows[0]?.last_used_at) return new Date(rows[0].last_used_at).toISOString();
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

t.test('create answers 201 with the key once; lists and the database never hold it', async (t) => {
  const res = await h.request({ method: 'POST', url: '/v1/api-keys', headers: admin.auth, payload: { name: 'Shopify sync', role: 'marketing' } });
  t.equal(res.statusCode, 201);
  const created = res.json();
  t.equal(res.headers.location, `/v1/api-keys/${created.id}`);
  t.match(created, { name: 'Shopify sync', role: 'marketing', createdBy: admin.id, expiresAt: null, revokedAt: null, lastUsedAt: null });
  t.match(created.key, /^crm_[A-Za-z0-9_-]{40,}$/);
  t.ok(created.key.startsWith(created.prefix), 'the prefix shown in lists is the start of the key');
  t.ok(created.prefix.length < created.key.length / 2, 'the prefix reveals only a small part');

  const list = await listKeys();
  t.equal(list.statusCode, 200);
  const mine = list.json().data.find((k: { id: string }) => k.id === created.id);
  t.ok(mine, 'listed');
  t.notOk('key' in mine, 'no key field in the list');
  t.notOk(list.body.includes(created.key), 'the key appears nowhere in the list body');

  const { rows } = await queryRows<Record<string, unknown>>(db, sql`SELECT * FROM api_keys WHERE id = ${created.id}`);
  t.notOk(JSON.stringify(rows).includes(created.key), 'the database does not hold the key');
  t.equal(rows[0]?.key_hash, createHash('sha256').update(created.key).digest('hex'), 'only its hash');
});

t.test('a key authenticates with exactly its role\'s permissions', async (t) => {
  const viewer = await createKey('viewer');
  const sales = await createKey('sales');
  const adminKey = await createKey('admin');

  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: withKey(viewer.key) })).statusCode, 200, 'viewer reads');
  const refused = await h.request({ method: 'POST', url: '/v1/companies', headers: withKey(viewer.key), payload: { name: 'Viewer Key Co' } });
  t.equal(refused.statusCode, 403, 'viewer may not write');
  t.match(refused.json(), { code: 'forbidden' });
  t.equal((await h.request({ method: 'GET', url: '/v1/users', headers: withKey(sales.key) })).statusCode, 403, 'sales may not read users');
  t.equal((await h.request({ method: 'GET', url: '/v1/api-keys', headers: withKey(sales.key) })).statusCode, 403);

  const made = await h.request({ method: 'POST', url: '/v1/companies', headers: withKey(sales.key), payload: { name: 'Sales Key Co' } });
  t.equal(made.statusCode, 201, 'sales writes companies');
  t.equal(made.json().ownerId, null, 'a key is no user: it owns nothing');

  const users = await h.request({ method: 'GET', url: '/v1/users', headers: withKey(adminKey.key) });
  t.equal(users.statusCode, 200, 'an admin key administers');
  const gql = await h.request({ method: 'POST', url: '/graphql', headers: withKey(viewer.key), payload: { query: 'mutation { createCompany(input: { name: "Via GraphQL" }) { id } }' } });
  t.equal(gql.json().errors?.[0]?.extensions?.code, 'forbidden', 'the same role rules over GraphQL');

  const { rows } = await queryRows<{ actor_type: string; actor_id: string; actor_role: string }>(
    db, sql`SELECT actor_type, actor_id, actor_role FROM audit_logs WHERE entity_id = ${made.json().id}`,
  );
  t.same(rows, [{ actor_type: 'api_key', actor_id: sales.id, actor_role: 'sales' }], 'the audit trail names the key');
});

t.test('lastUsedAt is set once the key is used', async (t) => {
  const k = await createKey('viewer');
  const before = (await listKeys()).json().data.find((x: { id: string }) => x.id === k.id);
  t.equal(before.lastUsedAt, null, 'unused so far');
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: withKey(k.key) })).statusCode, 200);
  const used = await lastUsedAtOf(k.id);
  t.type(used, 'string', 'recorded');
  const after = (await listKeys()).json().data.find((x: { id: string }) => x.id === k.id);
  t.equal(after.lastUsedAt, used, 'and shown in the list');
});

t.test('revoking: 204, then the key is 401; revoking again is 404', async (t) => {
  const k = await createKey('manager');
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: withKey(k.key) })).statusCode, 200);
  const del = await h.request({ method: 'DELETE', url: `/v1/api-keys/${k.id}`, headers: admin.auth });
  t.equal(del.statusCode, 204);
  const after = await h.request({ method: 'GET', url: '/v1/companies', headers: withKey(k.key) });
  t.equal(after.statusCode, 401);
  t.match(after.json(), { code: 'unauthenticated' });
  const listed = (await listKeys()).json().data.find((x: { id: string }) => x.id === k.id);
  t.type(listed.revokedAt, 'string', 'the list shows when it was revoked');
  t.equal((await h.request({ method: 'DELETE', url: `/v1/api-keys/${k.id}`, headers: admin.auth })).statusCode, 404);
  t.equal((await h.request({ method: 'DELETE', url: `/v1/api-keys/${randomUUID()}`, headers: admin.auth })).statusCode, 404);
});

t.test('expiry: a future expiresAt works until then; a past one is refused at creation', async (t) => {
  const future = new Date(Date.now() + 3600_000).toISOString();
  const k = await createKey('viewer', { expiresAt: future });
  t.equal(k.expiresAt, future);
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: withKey(k.key) })).statusCode, 200);

  const past = await h.request({ method: 'POST', url: '/v1/api-keys', headers: admin.auth, payload: { name: 'stale', role: 'viewer', expiresAt: new Date(Date.now() - 60_000).toISOString() } });
  t.equal(past.statusCode, 400);
  t.match(past.json(), { code: 'validation_failed', errors: [{ path: 'expiresAt' }] });

  for (const [body, path] of [
    [{ name: 'x', role: 'root' }, 'role'],
    [{ role: 'viewer' }, 'name'],
    [{ name: 'x', role: 'viewer', expiresAt: 'tomorrow' }, 'expiresAt'],
    [{ name: 'x', role: 'viewer', key: 'crm_chosen-by-me' }, 'key'],
  ] as const) {
    const res = await h.request({ method: 'POST', url: '/v1/api-keys', headers: admin.auth, payload: body });
    t.equal(res.statusCode, 400, `bad ${path}`);
    t.match(res.json(), { errors: [{ path }] });
  }
});

t.test('listing pages by cursor without repeats', async (t) => {
  const made = [await createKey('viewer'), await createKey('viewer'), await createKey('viewer')];
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: Record<string, string> = { limit: '2', ...(cursor ? { cursor } : {}) };
    const page = await h.request({ method: 'GET', url: '/v1/api-keys', headers: admin.auth, query });
    t.equal(page.statusCode, 200);
    t.ok(page.json().data.length <= 2);
    seen.push(...page.json().data.map((k: { id: string }) => k.id));
    cursor = page.json().nextCursor;
  } while (cursor);
  t.equal(new Set(seen).size, seen.length, 'no key twice');
  for (const k of made) t.ok(seen.includes(k.id), `${k.name} listed`);
  t.equal((await h.request({ method: 'GET', url: '/v1/api-keys', headers: admin.auth, query: { cursor: 'nonsense' } })).statusCode, 400);
});

t.test('GraphQL: createApiKey shows the key once, apiKeys never, revokeApiKey ends it', async (t) => {
  const made = await h.gql(admin, 'mutation { createApiKey(input: { name: "gql key", role: viewer }) { id key prefix role } }');
  t.equal(made.status, 200);
  const k = made.body.data?.createApiKey;
  t.match(k, { role: 'viewer' });
  t.match(k.key, /^crm_/);

  const list = await h.gql(admin, '{ apiKeys(first: 200) { nodes { id prefix lastUsedAt } } }');
  t.ok(list.body.data?.apiKeys.nodes.some((n: { id: string }) => n.id === k.id));
  t.notOk(JSON.stringify(list.body).includes(k.key));
  const asKeyField = await h.gql(admin, '{ apiKeys { nodes { key } } }');
  t.equal(asKeyField.body.errors?.[0]?.extensions.code, 'validation_failed', 'the listing type has no key field at all');

  const viewerKey = { id: k.id, role: 'viewer' as const, teamIds: [], token: k.key, auth: withKey(k.key) };
  const me = await h.gql(viewerKey, '{ companies(first: 1) { edges { node { id } } } }');
  t.same(me.body.errors, undefined, 'the key works on GraphQL');
  const denied = await h.gql(viewerKey, 'mutation { createApiKey(input: { name: "escalate", role: admin }) { key } }');
  t.equal(denied.body.errors?.[0]?.extensions.code, 'forbidden', 'a viewer key cannot mint keys');

  const past = await h.gql(admin, 'mutation($e: DateTime) { createApiKey(input: { name: "old", role: viewer, expiresAt: $e }) { id } }', { e: '2020-01-01T00:00:00.000Z' });
  t.match(past.body.errors?.[0]?.extensions, { code: 'validation_failed', errors: [{ path: 'expiresAt' }] });

  const revoked = await h.gql(admin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: k.id });
  t.same(revoked.body.data, { revokeApiKey: true });
  const after = await h.request({ method: 'POST', url: '/graphql', headers: withKey(k.key), payload: { query: '{ companies(first: 1) { edges { node { id } } } }' } });
  t.equal(after.statusCode, 401);
});
