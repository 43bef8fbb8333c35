import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/platform/db/execute.js';
import { startTestApp } from '../helpers/app.js';

// Sign-in, refresh-token rotation and logout over REST and GraphQL (API.md §4, §5b "Identity"),
// with real users created through POST /v1/users and real Argon2 passwords.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;

// The auth routes allow 30 calls a minute per IP: every test signs in from addresses of its own.
let ipCounter = 0;
const newIp = () => `10.20.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}`;

interface Account {
  id: string;
  email: string;
  password: string;
}

async function createUser(o: { role?: string; teamIds?: string[] } = {}): Promise<Account> {
  const email = `u-${randomUUID().slice(0, 8)}@auth.example`;
  const password = `pw-${randomUUID()}`;
  const res = await h.request({
    method: 'POST', url: '/v1/users', headers: admin.auth,
    payload: { email, password, name: 'Auth Tester', role: o.role ?? 'sales', teamIds: o.teamIds ?? [] },
  });
  if (res.statusCode !== 201) throw new Error(`user create failed: ${res.body}`);
  return { id: res.json().id, email, password };
}

const post = (url: string, payload: object, ip: string) => h.request({ method: 'POST', url, payload, remoteAddress: ip });
const login = (email: string, password: string, ip: string) => post('/v1/auth/login', { email, password }, ip);
const refresh = (refreshToken: string, ip: string) => post('/v1/auth/refresh', { refreshToken }, ip);
const me = (accessToken: string) => h.request({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${accessToken}` } });

function claimsOf(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header as string, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload as string, 'base64url').toString('utf8')),
  };
}

/** A problem body without its per-request parts, to compare two refusals. */
const stable = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });

async function familyRows(refreshToken: string) {
  const hash = createHash('sha256').update(refreshToken).digest('hex');
  const { rows } = await queryRows<{ token_hash: string; used_at: unknown; revoked_at: unknown }>(
    db,
    sql`SELECT token_hash, used_at, revoked_at FROM refresh_tokens
        WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ${hash})`,
  );
  return rows;
}

t.test('login answers a token pair; the access token carries the claims and works on /v1/me', async (t) => {
  const team = await h.request({ method: 'POST', url: '/v1/teams', headers: admin.auth, payload: { name: `Auth team ${randomUUID()}` } });
  const u = await createUser({ role: 'support', teamIds: [team.json().id] });
  const ip = newIp();
  const res = await login(u.email.toUpperCase(), u.password, ip);
  t.equal(res.statusCode, 200, 'emails are matched case-insensitively');
  const pair = res.json();
  t.same(Object.keys(pair).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
  t.equal(pair.tokenType, 'Bearer');
  t.equal(pair.expiresIn, h.config.jwt.accessTokenTtl);

  const { header, payload } = claimsOf(pair.accessToken);
  t.equal(header.alg, 'HS256');
  t.equal(payload.sub, u.id);
  t.equal(payload.role, 'support');
  t.same(payload.teamIds, [team.json().id]);
  t.equal(payload.iss, h.config.jwt.issuer);
  t.equal(payload.aud, h.config.jwt.audience);
  t.equal(payload.exp, (payload.iat as number) + pair.expiresIn, 'exp is iat + expiresIn');
  t.match(payload.jti, /^[0-9a-f-]{36}$/);

  const again = (await login(u.email, u.password, ip)).json();
  t.not(claimsOf(again.accessToken).payload.jti, payload.jti, 'every token has its own jti');
  t.not(again.refreshToken, pair.refreshToken);

  const mine = await me(pair.accessToken);
  t.equal(mine.statusCode, 200);
  t.match(mine.json(), { id: u.id, email: u.email, role: 'support', active: true, teamIds: [team.json().id] });
  t.type(mine.json().lastLoginAt, 'string', 'the sign-in is recorded');
  t.notOk('passwordHash' in mine.json(), 'the hash never leaves the server');

  // Refresh tokens are stored only as their SHA-256.
  const stored = await familyRows(pair.refreshToken);
  t.equal(stored.length, 1);
  t.not(stored[0]?.token_hash, pair.refreshToken);
});

t.test('a wrong password and an unknown email answer exactly alike', async (t) => {
  const u = await createUser();
  const ip = newIp();
  const wrong = await login(u.email, `${u.password}-nope`, ip);
  const unknown = await login(`nobody-${randomUUID()}@auth.example`, u.password, ip);
  t.equal(wrong.statusCode, 401);
  t.equal(unknown.statusCode, 401);
  t.match(wrong.json(), { code: 'unauthenticated', status: 401 });
  t.same(stable(unknown.json()), stable(wrong.json()), 'same type, title, detail and code');
  t.equal(unknown.headers['content-type'], wrong.headers['content-type']);

  const q = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';
  const g1 = await h.gql(undefined, q, { e: u.email, p: 'not-the-password' });
  const g2 = await h.gql(undefined, q, { e: `nobody-${randomUUID()}@auth.example`, p: 'not-the-password' });
  t.equal(g1.status, 401);
  t.equal(g2.status, 401);
  t.equal(g1.body.errors?.[0]?.extensions.code, 'unauthenticated');
  t.equal(g1.body.errors?.[0]?.message, wrong.json().detail, 'GraphQL says what REST says');
  t.equal(g2.body.errors?.[0]?.message, g1.body.errors?.[0]?.message);
});

t.test('five failures lock the account: then even the right password gets 429, from any address', async (t) => {
  const u = await createUser();
  const other = await createUser();
  const ipA = newIp();
  for (let i = 1; i <= 5; i++) {
    const res = await login(u.email, `wrong-password-${i}`, ipA);
    t.equal(res.statusCode, 401, `failure ${i} is an ordinary 401`);
  }
  const locked = await login(u.email, u.password, newIp());
  t.equal(locked.statusCode, 429, 'the right password from another address is refused too');
  t.match(locked.json(), { code: 'rate_limited', status: 429 });
  t.match(locked.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After in whole seconds');

  const unaffected = await login(other.email, other.password, ipA);
  t.equal(unaffected.statusCode, 200, 'the lock is per account: another account from the same address signs in');
});

t.test('guesses sent in parallel are throttled too: at most five passwords are checked', async (t) => {
  // Counting only after a failure let every guess of a burst through (20 of 20 were checked).
  const u = await createUser();
  const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => login(u.email, `parallel-guess-${i}`, newIp())));
  const statuses = burst.map((r) => r.statusCode);
  t.ok(statuses.every((s) => s === 401 || s === 429), `only 401 and 429 (${statuses.join(',')})`);
  t.ok(statuses.filter((s) => s === 401).length <= 5, 'no more than five guesses were checked');
  t.equal(statuses.filter((s) => s === 429).length, 12 - statuses.filter((s) => s === 401).length);
  t.equal((await login(u.email, u.password, newIp())).statusCode, 429, 'and the account is locked afterwards');
});

t.test('an unknown email is throttled the same way as a real one', async (t) => {
  const u = await createUser();
  const ghost = `ghost-${randomUUID()}@auth.example`;
  for (let i = 1; i <= 5; i++) {
    t.equal((await login(ghost, `wrong-password-${i}`, newIp())).statusCode, 401);
    t.equal((await login(u.email, `wrong-password-${i}`, newIp())).statusCode, 401);
  }
  const ghostLocked = await login(ghost, 'whatever-password', newIp());
  const realLocked = await login(u.email, u.password, newIp());
  t.equal(ghostLocked.statusCode, 429);
  t.equal(realLocked.statusCode, 429);
  t.same(stable(ghostLocked.json()), stable(realLocked.json()), 'the lock does not reveal whether the account exists');
  t.equal(ghostLocked.headers['retry-after'], realLocked.headers['retry-after']);
});

t.test('a successful sign-in clears the failures counted against the account', async (t) => {
  const u = await createUser();
  const ip = newIp();
  for (let i = 0; i < 4; i++) t.equal((await login(u.email, 'wrong-password-x', ip)).statusCode, 401);
  t.equal((await login(u.email, u.password, ip)).statusCode, 200);
  for (let i = 0; i < 4; i++) t.equal((await login(u.email, 'wrong-password-y', ip)).statusCode, 401);
  t.equal((await login(u.email, u.password, ip)).statusCode, 200, 'four fresh failures do not lock it');
});

t.test('a deactivated user cannot sign in, and is told nothing more than a wrong password', async (t) => {
  const u = await createUser();
  const ip = newIp();
  t.equal((await login(u.email, u.password, ip)).statusCode, 200);
  const del = await h.request({ method: 'DELETE', url: `/v1/users/${u.id}`, headers: admin.auth });
  t.equal(del.statusCode, 204);
  const res = await login(u.email, u.password, ip);
  t.equal(res.statusCode, 401);
  const wrong = await login(`nobody-${randomUUID()}@auth.example`, u.password, ip);
  t.same(stable(res.json()), stable(wrong.json()));
});

t.test('refresh rotates: the new pair works, the old refresh token does not', async (t) => {
  const u = await createUser({ role: 'marketing' });
  const ip = newIp();
  const first = (await login(u.email, u.password, ip)).json();
  const r1 = await refresh(first.refreshToken, ip);
  t.equal(r1.statusCode, 200);
  const second = r1.json();
  t.same(Object.keys(second).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType'], 'answers like login');
  t.equal(second.tokenType, 'Bearer');
  t.not(second.refreshToken, first.refreshToken);
  t.match(claimsOf(second.accessToken).payload, { sub: u.id, role: 'marketing' });
  t.equal((await me(second.accessToken)).statusCode, 200);

  const third = await refresh(second.refreshToken, ip);
  t.equal(third.statusCode, 200, 'the newest refresh token rotates again');
  t.equal((await refresh(first.refreshToken, ip)).statusCode, 401, 'the old one is spent');
});

t.test('reusing a spent refresh token revokes its whole family, and only that family', async (t) => {
  const u = await createUser();
  const ip = newIp();
  const first = (await login(u.email, u.password, ip)).json();
  const otherSession = (await login(u.email, u.password, ip)).json();
  const second = (await refresh(first.refreshToken, ip)).json();
  t.type(second.refreshToken, 'string');

  const reuse = await refresh(first.refreshToken, ip);
  t.equal(reuse.statusCode, 401);
  t.match(reuse.json(), { code: 'unauthenticated' });
  t.equal((await refresh(second.refreshToken, ip)).statusCode, 401, 'the newest token of the family died with it');
  const rows = await familyRows(first.refreshToken);
  t.equal(rows.length, 2);
  t.ok(rows.every((r) => r.revoked_at !== null), 'every token of the family is revoked in the database');

  t.equal((await refresh(otherSession.refreshToken, ip)).statusCode, 200, 'another sign-in of the same user lives on');
});

t.test('one refresh token presented twice at once yields at most one new pair', async (t) => {
  const u = await createUser();
  const ip = newIp();
  for (let round = 0; round < 3; round++) {
    const pair = (await login(u.email, u.password, ip)).json();
    const results = await Promise.all([refresh(pair.refreshToken, ip), refresh(pair.refreshToken, ip)]);
    const ok = results.filter((r) => r.statusCode === 200);
    t.ok(ok.length <= 1, `round ${round}: at most one 200`);
    t.ok(results.every((r) => r.statusCode === 200 || r.statusCode === 401), 'the loser gets 401, never a 5xx');
    t.equal((await familyRows(pair.refreshToken)).length, 1 + ok.length, 'no second token was issued');
  }
});

t.test('over real connections, two simultaneous refreshes still yield at most one pair', async (t) => {
  // Separate sockets (and, with TEST_DATABASE_URL, separate pool connections) really race on the row lock.
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = h.app.server.address() as AddressInfo;
  const u = await createUser();
  const send = (refreshToken: string) =>
    fetch(`http://127.0.0.1:${port}/v1/auth/refresh`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }),
    });
  for (let round = 0; round < 5; round++) {
    const pair = (await login(u.email, u.password, newIp())).json();
    const results = await Promise.all([send(pair.refreshToken), send(pair.refreshToken)]);
    const statuses = results.map((r) => r.status);
    t.ok(statuses.filter((s) => s === 200).length <= 1, `round ${round}: at most one 200 (${statuses.join(',')})`);
    t.ok(statuses.every((s) => s === 200 || s === 401), 'never a 5xx');
    t.equal((await familyRows(pair.refreshToken)).length, 1 + statuses.filter((s) => s === 200).length);
  }
});

t.test('logout answers 204 and kills the refresh token; a second logout is 401', async (t) => {
  const u = await createUser();
  const ip = newIp();
  const pair = (await login(u.email, u.password, ip)).json();
  const out = await post('/v1/auth/logout', { refreshToken: pair.refreshToken }, ip);
  t.equal(out.statusCode, 204);
  t.equal(out.body, '');
  t.equal((await refresh(pair.refreshToken, ip)).statusCode, 401);
  t.equal((await post('/v1/auth/logout', { refreshToken: pair.refreshToken }, ip)).statusCode, 401);
});

t.test('expired, garbage and foreign refresh tokens are 401', async (t) => {
  const u = await createUser();
  const ip = newIp();
  const pair = (await login(u.email, u.password, ip)).json();
  const hash = createHash('sha256').update(pair.refreshToken).digest('hex');
  await db.execute(sql`UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = ${hash}`);
  for (const token of [pair.refreshToken, 'rt_garbage', `rt_${'x'.repeat(150)}`, pair.accessToken.slice(0, 200), 'crm_not-a-refresh-token']) {
    const res = await refresh(token, ip);
    t.equal(res.statusCode, 401, `${token.slice(0, 12)}… refused`);
    t.match(res.json(), { code: 'unauthenticated' });
  }
  const extra = await post('/v1/auth/refresh', { refreshToken: pair.refreshToken, userId: u.id }, ip);
  t.equal(extra.statusCode, 400, 'unknown body fields are refused');
});

t.test('GraphQL: login, me, refreshToken and logout need no token and behave like REST', async (t) => {
  const u = await createUser({ role: 'viewer' });
  const pairFields = 'accessToken refreshToken tokenType expiresIn';
  const signIn = await h.gql(undefined, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${pairFields} } }`, { e: u.email, p: u.password });
  t.equal(signIn.status, 200);
  const pair = signIn.body.data?.login;
  t.match(pair, { tokenType: 'Bearer', expiresIn: h.config.jwt.accessTokenTtl });
  t.match(claimsOf(pair.accessToken).payload, { sub: u.id, role: 'viewer' });

  const bearer = { id: u.id, role: 'viewer' as const, teamIds: [], token: pair.accessToken, auth: { authorization: `Bearer ${pair.accessToken}` } };
  const mine = await h.gql(bearer, '{ me { id email role active } }');
  t.same(mine.body.data?.me, { id: u.id, email: u.email, role: 'viewer', active: true });

  const rotate = `mutation($r: String!) { refreshToken(refreshToken: $r) { ${pairFields} } }`;
  const next = await h.gql(undefined, rotate, { r: pair.refreshToken });
  t.equal(next.status, 200);
  t.not(next.body.data?.refreshToken.refreshToken, pair.refreshToken);

  const reuse = await h.gql(undefined, rotate, { r: pair.refreshToken });
  t.equal(reuse.status, 401);
  t.equal(reuse.body.errors?.[0]?.extensions.code, 'unauthenticated');
  t.equal((await refresh(next.body.data?.refreshToken.refreshToken, newIp())).statusCode, 401, 'reuse over GraphQL revoked the family too');

  const fresh = (await login(u.email, u.password, newIp())).json();
  const out = await h.gql(undefined, 'mutation($r: String!) { logout(refreshToken: $r) }', { r: fresh.refreshToken });
  t.same(out.body.data, { logout: true });
  const after = await h.gql(undefined, rotate, { r: fresh.refreshToken });
  t.equal(after.body.errors?.[0]?.extensions.code, 'unauthenticated');

  const anonymous = await h.gql(undefined, '{ me { id } }');
  t.equal(anonymous.status, 401, 'me without a token');
  t.equal(anonymous.body.errors?.[0]?.extensions.code, 'unauthenticated');
});
