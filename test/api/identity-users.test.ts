import { randomUUID } from 'node:crypto';
import t from 'tap';
import { ROLES } from '../../src/platform/auth/actor.js';
import { createUserService } from '../../src/modules/identity/user.service.js';
import { ensureFirstAdmin } from '../../src/modules/identity/bootstrap.js';
import { createTestDatabase } from '../helpers/database.js';
import { startTestApp } from '../helpers/app.js';

// Users, teams and memberships (admin writes, manager reads), deactivation and password changes
// ending sessions, GET /v1/me, and the first-admin bootstrap. Role refusals for every endpoint are
// in roles-matrix.test.ts; here each rule is followed through to its effect.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const manager = h.user('manager');

let ipCounter = 0;
const newIp = () => `10.30.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}`;
const unique = () => randomUUID().slice(0, 8);

const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, who: { auth: { authorization: string } } = admin, payload?: object) =>
  h.request({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });

async function createUser(o: { role?: string; teamIds?: string[]; password?: string } = {}) {
  const email = `u-${unique()}@users.example`;
  const password = o.password ?? `pw-${randomUUID()}`;
  const res = await call('POST', '/v1/users', admin, { email, password, name: 'Some One', role: o.role ?? 'sales', teamIds: o.teamIds ?? [] });
  if (res.statusCode !== 201) throw new Error(`user create failed: ${res.body}`);
  return { ...(res.json() as { id: string; version: number }), email, password };
}

async function createTeam(name = `Team ${unique()}`): Promise<{ id: string; name: string }> {
  const res = await call('POST', '/v1/teams', admin, { name });
  if (res.statusCode !== 201) throw new Error(`team create failed: ${res.body}`);
  return res.json();
}

const login = (email: string, password: string) =>
  h.request({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: newIp() });
const refresh = (refreshToken: string) =>
  h.request({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken }, remoteAddress: newIp() });
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8'));

t.test('first-admin bootstrap', async (t) => {
  // Its own empty database: the rule is about a database with no users at all.
  const fresh = await createTestDatabase();
  const apps: { close(): Promise<void> }[] = [];
  t.teardown(async () => {
    for (const a of apps) await a.close();
    await fresh.close();
  });
  const users = createUserService({ db: fresh.database.db });
  const printed: string[] = [];
  const print = (line: string) => printed.push(line);
  const none = { email: undefined, password: undefined };

  const made = await Promise.all([
    ensureFirstAdmin(fresh.database.db, users, none, h.app.log, print),
    ensureFirstAdmin(fresh.database.db, users, none, h.app.log, print),
  ]);
  t.same(made.sort(), [false, true], 'two starts at once: exactly one creates the admin');
  t.equal(await users.countUsers(), 1, 'exactly one user on the empty database');
  t.equal(printed.length, 1, 'the password is printed once');
  const password = /Password[^:]*: (\S+)/.exec(printed[0] ?? '')?.[1];
  t.ok(password && password.length >= 12, 'a generated password of at least 12 characters');

  const adminUser = (await users.list({ actor: { type: 'system', id: 'system', role: 'admin', teamIds: [] }, requestId: 't' }, { limit: 10 })).items;
  t.match(adminUser, [{ email: 'admin@example.com', role: 'admin', active: true }]);

  // The printed password is the real one: sign in with it on an app over that database.
  const app2 = await startTestApp({ db: fresh });
  apps.push(app2);
  const signIn = await app2.request({ method: 'POST', url: '/v1/auth/login', payload: { email: 'admin@example.com', password }, remoteAddress: newIp() });
  t.equal(signIn.statusCode, 200);
  t.equal(claimsOf(signIn.json().accessToken).role, 'admin');

  t.equal(await ensureFirstAdmin(fresh.database.db, users, { email: 'second@example.com', password: 'another-long-password' }, h.app.log, print), false);
  t.equal(await users.countUsers(), 1, 'nothing is created when users exist');
  t.equal(printed.length, 1, 'and nothing printed');
});

t.test('bootstrap with ADMIN_EMAIL and ADMIN_PASSWORD prints no password', async (t) => {
  const fresh = await createTestDatabase();
  t.teardown(() => fresh.close());
  const users = createUserService({ db: fresh.database.db });
  const printed: string[] = [];
  const ok = await ensureFirstAdmin(fresh.database.db, users, { email: 'boss@example.com', password: 'configured-admin-password' }, h.app.log, (l) => printed.push(l));
  t.equal(ok, true);
  t.same(printed, [], 'a configured password is never echoed');
  const list = await users.list({ actor: { type: 'system', id: 'system', role: 'admin', teamIds: [] }, requestId: 't' }, { limit: 10 });
  t.match(list.items, [{ email: 'boss@example.com', role: 'admin' }]);
});

t.test('admin creates a user: 201, Location, ETag, no password in the answer', async (t) => {
  const team = await createTeam();
  const email = `New.Person-${unique()}@Users.Example`;
  const res = await call('POST', '/v1/users', admin, { email, password: 'a perfectly fine passphrase', name: 'New Person', role: 'support', teamIds: [team.id] });
  t.equal(res.statusCode, 201);
  const u = res.json();
  t.equal(res.headers.location, `/v1/users/${u.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(u, { email: email.toLowerCase(), name: 'New Person', role: 'support', active: true, teamIds: [team.id], version: 1, lastLoginAt: null });
  t.notOk(JSON.stringify(u).includes('passphrase'));
  t.notOk('password' in u || 'passwordHash' in u);
  t.same((await call('GET', `/v1/users/${u.id}`)).json(), u, 'GET answers what POST answered');
  t.same((await call('GET', `/v1/teams/${team.id}`)).json().memberIds, [u.id], 'the team lists its new member');
});

t.test('the password policy: at least 12 characters, not the email', async (t) => {
  const email = `policy-${unique()}@users.example`;
  const local = email.split('@')[0] as string;
  for (const [password, why] of [
    ['short-pw-11', 'under 12 characters'],
    [email, 'the email itself'],
    [email.toUpperCase(), 'the email in capitals'],
    [`${local}-and-more`, 'containing the email'],
    ['x'.repeat(257), 'over 256 characters'],
  ] as const) {
    const res = await call('POST', '/v1/users', admin, { email, password, name: 'P', role: 'viewer' });
    t.equal(res.statusCode, 400, why);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'password' }] }, why);
  }
  const list = await call('GET', '/v1/users', admin);
  t.notOk(list.json().data.some((u: { email: string }) => u.email === email), 'no user was created');
  t.equal((await call('POST', '/v1/users', admin, { email, password: 'exactly-12ch', name: 'P', role: 'viewer' })).statusCode, 201, '12 characters is enough');
});

t.test('a duplicate email is 409, whatever its case', async (t) => {
  const u = await createUser();
  const res = await call('POST', '/v1/users', admin, { email: u.email.toUpperCase(), password: 'another fine passphrase', name: 'Twin', role: 'viewer' });
  t.equal(res.statusCode, 409);
  t.match(res.json(), { code: 'conflict' });
  const other = await createUser();
  const patch = await call('PATCH', `/v1/users/${other.id}`, admin, { email: u.email });
  t.equal(patch.statusCode, 409, 'PATCH to a taken email too');
});

t.test('teamIds must name live teams: 422 invalid_reference with the index', async (t) => {
  const team = await createTeam();
  const gone = await createTeam();
  t.equal((await call('DELETE', `/v1/teams/${gone.id}`)).statusCode, 204);
  const missing = randomUUID();
  const res = await call('POST', '/v1/users', admin, { email: `ref-${unique()}@users.example`, password: 'a fine passphrase', name: 'R', role: 'sales', teamIds: [team.id, missing, gone.id] });
  t.equal(res.statusCode, 422);
  t.match(res.json(), { code: 'invalid_reference' });
  t.same(res.json().errors.map((e: { path: string }) => e.path), ['teamIds.1', 'teamIds.2']);

  const u = await createUser();
  const patch = await call('PATCH', `/v1/users/${u.id}`, admin, { teamIds: [missing] });
  t.equal(patch.statusCode, 422);
  t.match(patch.json(), { errors: [{ path: 'teamIds.0' }] });
});

t.test('admin changes role and teams; new tokens carry them', async (t) => {
  const teamA = await createTeam();
  const teamB = await createTeam();
  const u = await createUser({ role: 'viewer', teamIds: [teamA.id] });
  const before = (await login(u.email, u.password)).json();
  t.match(claimsOf(before.accessToken), { role: 'viewer', teamIds: [teamA.id] });

  const res = await h.request({ method: 'PATCH', url: `/v1/users/${u.id}`, headers: { ...admin.auth, 'if-match': '"1"' }, payload: { role: 'manager', teamIds: [teamB.id, teamA.id] } });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { role: 'manager', version: 2 });
  t.same(res.json().teamIds.sort(), [teamA.id, teamB.id].sort());
  t.equal(res.headers.etag, '"2"');

  const stale = await h.request({ method: 'PATCH', url: `/v1/users/${u.id}`, headers: { ...admin.auth, 'if-match': '"1"' }, payload: { name: 'Late' } });
  t.equal(stale.statusCode, 412, 'a stale If-Match is a version conflict');

  const rotated = (await refresh(before.refreshToken)).json();
  t.match(claimsOf(rotated.accessToken), { role: 'manager' }, 'a refreshed token carries the new role');
  const fresh = (await login(u.email, u.password)).json();
  t.same(claimsOf(fresh.accessToken).teamIds.sort(), [teamA.id, teamB.id].sort());
});

t.test('manager reads users and teams but may not change them', async (t) => {
  const team = await createTeam();
  const u = await createUser({ teamIds: [team.id] });
  t.equal((await call('GET', '/v1/users', manager)).statusCode, 200);
  t.equal((await call('GET', `/v1/users/${u.id}`, manager)).json().id, u.id);
  t.equal((await call('GET', '/v1/teams', manager)).statusCode, 200);
  t.equal((await call('GET', `/v1/teams/${team.id}`, manager)).json().id, team.id);

  for (const [method, url, body] of [
    ['POST', '/v1/users', { email: `m-${unique()}@users.example`, password: 'a fine passphrase', name: 'M', role: 'viewer' }],
    ['PATCH', `/v1/users/${u.id}`, { role: 'admin' }],
    ['DELETE', `/v1/users/${u.id}`, undefined],
    ['POST', '/v1/teams', { name: `Manager team ${unique()}` }],
    ['PATCH', `/v1/teams/${team.id}`, { name: 'Renamed by manager' }],
    ['DELETE', `/v1/teams/${team.id}`, undefined],
    ['PUT', `/v1/teams/${team.id}/members/${u.id}`, undefined],
    ['DELETE', `/v1/teams/${team.id}/members/${u.id}`, undefined],
  ] as const) {
    const res = await call(method, url, manager, body);
    t.equal(res.statusCode, 403, `${method} ${url}`);
    t.match(res.json(), { code: 'forbidden' });
  }
  const after = (await call('GET', `/v1/users/${u.id}`)).json();
  t.match(after, { version: 1, role: 'sales', active: true, teamIds: [team.id] }, 'the user is unchanged');
  t.match((await call('GET', `/v1/teams/${team.id}`)).json(), { version: 1, name: team.name, memberIds: [u.id] });
});

t.test('DELETE /v1/users/:id deactivates: no sign-in, refresh tokens dead, /me gone, record kept', async (t) => {
  const u = await createUser();
  const pair = (await login(u.email, u.password)).json();
  t.equal((await call('DELETE', `/v1/users/${u.id}`)).statusCode, 204);

  t.equal((await login(u.email, u.password)).statusCode, 401);
  t.equal((await refresh(pair.refreshToken)).statusCode, 401);
  const mine = await h.request({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${pair.accessToken}` } });
  t.equal(mine.statusCode, 404, 'a deactivated user has no /me');
  t.match((await call('GET', `/v1/users/${u.id}`)).json(), { id: u.id, active: false }, 'never deleted: deactivated');

  const revived = await call('PATCH', `/v1/users/${u.id}`, admin, { active: true });
  t.equal(revived.statusCode, 200);
  t.equal((await login(u.email, u.password)).statusCode, 200, 'reactivation restores sign-in');
  t.equal((await refresh(pair.refreshToken)).statusCode, 401, 'but not the sessions that were ended');
});

t.test('a password change ends every session and only the new password works', async (t) => {
  const u = await createUser();
  const one = (await login(u.email, u.password)).json();
  const two = (await login(u.email, u.password)).json();
  const weak = await call('PATCH', `/v1/users/${u.id}`, admin, { password: 'short' });
  t.equal(weak.statusCode, 400, 'the policy applies to changes too');
  t.equal((await refresh(one.refreshToken)).statusCode, 200, 'a refused change ends nothing');

  const next = 'a brand new passphrase';
  t.equal((await call('PATCH', `/v1/users/${u.id}`, admin, { password: next })).statusCode, 200);
  t.equal((await refresh(two.refreshToken)).statusCode, 401, 'refresh tokens of before the change are revoked');
  t.equal((await login(u.email, u.password)).statusCode, 401, 'the old password is refused');
  t.equal((await login(u.email, next)).statusCode, 200, 'the new one works');
});

t.test('teams: create, read, rename, list, delete; members added and removed', async (t) => {
  const name = `Sales North ${unique()}`;
  const created = await call('POST', '/v1/teams', admin, { name });
  t.equal(created.statusCode, 201);
  const team = created.json();
  t.match(team, { name, version: 1, memberIds: [], deletedAt: null });
  t.equal(created.headers.location, `/v1/teams/${team.id}`);
  t.equal((await call('POST', '/v1/teams', admin, { name })).statusCode, 409, 'team names are unique among live teams');

  const renamed = await call('PATCH', `/v1/teams/${team.id}`, admin, { name: `${name} (renamed)` });
  t.match(renamed.json(), { name: `${name} (renamed)`, version: 2 });

  const u1 = await createUser();
  const u2 = await createUser();
  t.same((await call('PUT', `/v1/teams/${team.id}/members/${u1.id}`)).json().memberIds, [u1.id]);
  const both = await call('PUT', `/v1/teams/${team.id}/members/${u2.id}`);
  t.equal(both.statusCode, 200);
  t.same(both.json().memberIds, [u1.id, u2.id]);
  t.same((await call('PUT', `/v1/teams/${team.id}/members/${u2.id}`)).json().memberIds, [u1.id, u2.id], 'adding twice is harmless');
  t.same((await call('GET', `/v1/users/${u2.id}`)).json().teamIds, [team.id], 'the user sees the membership');
  t.equal((await call('PUT', `/v1/teams/${team.id}/members/${randomUUID()}`)).statusCode, 404, 'an unknown user');

  t.same((await call('DELETE', `/v1/teams/${team.id}/members/${u1.id}`)).json().memberIds, [u2.id]);
  t.same((await call('GET', `/v1/users/${u1.id}`)).json().teamIds, []);

  const list = await call('GET', '/v1/teams', admin, undefined);
  t.ok(list.json().data.some((x: { id: string }) => x.id === team.id));

  t.equal((await call('DELETE', `/v1/teams/${team.id}`)).statusCode, 204);
  t.equal((await call('GET', `/v1/teams/${team.id}`)).statusCode, 404);
  t.notOk((await call('GET', '/v1/teams')).json().data.some((x: { id: string }) => x.id === team.id), 'gone from the list');
  t.same((await call('GET', `/v1/users/${u2.id}`)).json().teamIds, [], 'a deleted team is no one\'s team');
  t.equal((await call('POST', '/v1/teams', admin, { name })).statusCode, 201, 'its name is free again');
});

t.test('users list: filters, sort and paging', async (t) => {
  const tag = unique();
  const made = [];
  for (const role of ['viewer', 'viewer', 'support']) {
    const res = await call('POST', '/v1/users', admin, { email: `list-${tag}-${made.length}@users.example`, password: 'a fine passphrase', name: `List ${tag} ${made.length}`, role });
    made.push(res.json());
  }
  const q = { 'filter[email][startsWith]': `list-${tag}`, sort: 'email', limit: '2' };
  const page1 = await h.request({ method: 'GET', url: '/v1/users', headers: admin.auth, query: q });
  t.equal(page1.statusCode, 200);
  t.same(page1.json().data.map((u: { id: string }) => u.id), [made[0].id, made[1].id]);
  t.type(page1.json().nextCursor, 'string');
  const page2 = await h.request({ method: 'GET', url: '/v1/users', headers: admin.auth, query: { ...q, cursor: page1.json().nextCursor } });
  t.same(page2.json().data.map((u: { id: string }) => u.id), [made[2].id]);
  t.equal(page2.json().nextCursor, null);

  const viewers = await h.request({ method: 'GET', url: '/v1/users', headers: admin.auth, query: { 'filter[email][startsWith]': `list-${tag}`, 'filter[role][eq]': 'viewer' } });
  t.equal(viewers.json().data.length, 2);
  const bad = await h.request({ method: 'GET', url: '/v1/users', headers: admin.auth, query: { 'filter[passwordHash][eq]': 'x' } });
  t.equal(bad.statusCode, 400, 'the password hash is not a filterable field');
});

t.test('GET /v1/me answers every role its own record; an API key has none (404)', async (t) => {
  for (const role of ROLES) {
    const u = await createUser({ role });
    const pair = (await login(u.email, u.password)).json();
    const res = await h.request({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${pair.accessToken}` } });
    t.equal(res.statusCode, 200, role);
    t.match(res.json(), { id: u.id, email: u.email, role });
    t.equal(res.headers.etag, `"${res.json().version}"`);
  }
  const key = (await call('POST', '/v1/api-keys', admin, { name: 'me probe', role: 'admin' })).json().key;
  const res = await h.request({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${key}` } });
  t.equal(res.statusCode, 404);
  t.match(res.json(), { code: 'not_found' });
});

t.test('GraphQL: users, createUser, updateUser, deactivateUser and teams with the REST rules', async (t) => {
  const team = await createTeam();
  const email = `gql-${unique()}@users.example`;
  const create = 'mutation($i: UserCreateInput!) { createUser(input: $i) { id email role teamIds active } }';
  const made = await h.gql(admin, create, { i: { email, password: 'a graphql passphrase', name: 'G', role: 'sales', teamIds: [team.id] } });
  t.equal(made.status, 200);
  const u = made.body.data?.createUser;
  t.match(u, { email, role: 'sales', teamIds: [team.id], active: true });

  const dup = await h.gql(admin, create, { i: { email, password: 'a graphql passphrase', name: 'G', role: 'sales' } });
  t.equal(dup.body.errors?.[0]?.extensions.code, 'conflict');
  const weak = await h.gql(admin, create, { i: { email: `w-${email}`, password: 'short', name: 'G', role: 'sales' } });
  t.match(weak.body.errors?.[0]?.extensions, { code: 'validation_failed', errors: [{ path: 'password' }] });
  const ref = await h.gql(admin, create, { i: { email: `r-${email}`, password: 'a graphql passphrase', name: 'G', role: 'sales', teamIds: [randomUUID()] } });
  t.match(ref.body.errors?.[0]?.extensions, { code: 'invalid_reference', errors: [{ path: 'teamIds.0' }] });
  const byManager = await h.gql(manager, create, { i: { email: `m-${email}`, password: 'a graphql passphrase', name: 'G', role: 'sales' } });
  t.equal(byManager.body.errors?.[0]?.extensions.code, 'forbidden');

  const list = await h.gql(manager, 'query($e: String!) { users(filter: { email: { eq: $e } }) { edges { node { id email } } } }', { e: email });
  t.same(list.body.data?.users.edges, [{ node: { id: u.id, email } }], 'manager reads users over GraphQL');
  const teams = await h.gql(manager, 'query($id: ID!) { team(id: $id) { id memberIds } }', { id: team.id });
  t.same(teams.body.data?.team, { id: team.id, memberIds: [u.id] });

  const upd = await h.gql(admin, 'mutation($id: ID!) { updateUser(id: $id, input: { role: viewer }, expectedVersion: 1) { role version } }', { id: u.id });
  t.same(upd.body.data?.updateUser, { role: 'viewer', version: 2 });
  const deact = await h.gql(admin, 'mutation($id: ID!) { deactivateUser(id: $id) { active } }', { id: u.id });
  t.same(deact.body.data?.deactivateUser, { active: false });
  t.equal((await login(email, 'a graphql passphrase')).statusCode, 401);

  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    const res = await h.gql(h.user(role), '{ users { edges { node { id } } } }');
    t.equal(res.body.errors?.[0]?.extensions.code, 'forbidden', `${role} may not list users over GraphQL`);
  }
});
