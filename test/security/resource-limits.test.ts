import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import { CREDENTIAL_CALLS_PER_MINUTE } from '../../src/modules/identity/credential-throttle.js';
import { EXPORTS_PER_MINUTE } from '../../src/modules/integration/export.routes.js';
import { type TestApp, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { changedTables, dbState } from './support/db-state.js';
import { assertProblem } from './support/problem-checks.js';
import { countRootResolverCalls } from '../helpers/resolver-counter.js';

// OWASP API4 (unrestricted resource consumption): every size and rate limit the contract names,
// each just over and just under. Oversized requests change nothing. Credential endpoints are
// throttled per operation, so GraphQL aliases do not multiply guesses. Every 429 carries Retry-After.

const db = await createTestDatabase();
t.teardown(() => db.close());
const h = await startTestApp({ db });
t.teardown(() => h.close());
const state = await dbState(h);
const admin = h.user('admin');
const calls = countRootResolverCalls(h.app);

/** every 429 this file sees, to check Retry-After on all of them at the end */
const tooMany: { label: string; res: LightMyRequestResponse }[] = [];
const note429 = (label: string, res: LightMyRequestResponse) => {
  if (res.statusCode === 429 || /"rate_limited"/.test(res.body)) tooMany.push({ label, res });
  return res;
};

async function unchanged<T>(t: Test, label: string, act: () => Promise<T>): Promise<T> {
  const before = await state.fingerprint();
  const out = await act();
  t.same(changedTables(before, await state.fingerprint()), [], `${label}: nothing written`);
  return out;
}

t.test('JSON bodies over 1 MiB are 413 on both doors, and nothing is written', async (t) => {
  const big = 'x'.repeat(h.config.bodyLimitBytes);
  const rest = await unchanged(t, 'REST', () => h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: 'Big', jobTitle: big } }));
  t.equal(rest.statusCode, 413);
  assertProblem(t, rest, 413, 'payload_too_large', 'REST body');
  const gql = await unchanged(t, 'GraphQL', () => h.request({
    method: 'POST', url: '/graphql', headers: admin.auth,
    payload: { query: 'mutation($i: ContactCreateInput!) { createContact(input: $i) { id } }', variables: { i: { firstName: 'Big', jobTitle: big } } },
  }));
  t.equal(gql.statusCode, 413);
  const under = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: 'Small', jobTitle: 'x'.repeat(200) } });
  t.equal(under.statusCode, 201, 'a normal body passes');
});

t.test('page size: at most 200 on REST and GraphQL; a huge `first` is refused before any resolver runs', async (t) => {
  t.equal((await h.request({ method: 'GET', url: '/v1/contacts?limit=200', headers: admin.auth })).statusCode, 200);
  const over = await h.request({ method: 'GET', url: '/v1/contacts?limit=201', headers: admin.auth });
  t.equal(over.statusCode, 400);
  assertProblem(t, over, 400, 'validation_failed', 'limit=201');
  t.match(over.json().errors, [{ path: 'limit' }]);

  const ok = await h.gql(admin, '{ contacts(first: 200) { pageInfo { hasNextPage } } }');
  t.same(ok.body.errors, undefined, 'first: 200 is answered');
  const gqlOver = await h.gql(admin, '{ contacts(first: 201) { pageInfo { hasNextPage } } }');
  t.equal(gqlOver.body.errors?.[0]?.extensions.code, 'validation_failed', 'first: 201 is refused');

  for (const first of [2_147_483_647, 1_000_000]) {
    const before = calls.calls;
    const huge = await h.gql(admin, `{ contacts(first: ${first}) { edges { node { id firstName } } } }`);
    t.equal(huge.status, 400, `first: ${first} → 400`);
    t.equal(huge.body.errors?.[0]?.extensions.code, 'validation_failed');
    t.equal(calls.calls, before, `first: ${first}: no resolver ran`);
  }
});

t.test('batches: at most 1000 records on both doors; over it nothing is written', async (t) => {
  const records = (n: number) => Array.from({ length: n }, (_, i) => ({ firstName: `Batch ${i}`, lastName: randomUUID().slice(0, 6) }));
  const rest = await unchanged(t, 'REST batch of 1001', () =>
    h.request({ method: 'POST', url: '/v1/contacts/batch', headers: admin.auth, payload: { operation: 'create', records: records(1001) } }));
  t.equal(rest.statusCode, 400);
  assertProblem(t, rest, 400, 'validation_failed', 'batch of 1001');
  t.match(rest.json().errors, [{ path: 'records' }]);
  for (const field of ['batchContacts(operation: create, records: $r)', 'upsertContacts(idProperty: "email", records: $r)', 'batchCompanies(operation: create, records: $r)']) {
    const gql = await unchanged(t, `GraphQL ${field} of 1001`, () => h.gql(admin, `mutation($r: [JSON!]!) { ${field} { status } }`, { r: records(1001) }));
    t.equal(gql.body.errors?.[0]?.extensions.code, 'validation_failed', `${field}: refused`);
    t.match(gql.body.errors?.[0]?.extensions.errors, [{ path: 'records' }]);
  }
  const fine = await h.gql(admin, 'mutation($r: [JSON!]!) { batchContacts(operation: create, records: $r) { status } }', { r: records(3) });
  t.same(fine.body.data?.batchContacts.map((r: { status: string }) => r.status), ['created', 'created', 'created'], 'a small batch passes');
});

t.test('imports: a file declared over 1 GiB is 413 before a byte is stored', async (t) => {
  const res = await unchanged(t, 'import over the limit', () => h.request({
    method: 'POST', url: '/v1/imports?entity=contacts&idProperty=email',
    headers: { ...admin.auth, 'content-type': 'text/csv', 'content-length': String(1024 ** 3 + 1) },
    payload: 'email\nbig@limits.example\n',
  }));
  t.equal(res.statusCode, 413);
  assertProblem(t, res, 413, 'payload_too_large', 'import');
});

t.test(`exports: ${EXPORTS_PER_MINUTE} a minute per caller and collection, then 429 with Retry-After`, async (t) => {
  const caller = h.user('manager');
  for (let i = 0; i < EXPORTS_PER_MINUTE; i++) {
    const res = await h.request({ method: 'GET', url: '/v1/companies/export?format=ndjson', headers: caller.auth });
    if (res.statusCode !== 200) t.fail(`export ${i + 1} → ${res.statusCode}`);
  }
  const refused = note429('export', await h.request({ method: 'GET', url: '/v1/companies/export?format=ndjson', headers: caller.auth }));
  t.equal(refused.statusCode, 429);
  assertProblem(t, refused, 429, 'rate_limited', 'export');
  const other = await h.request({ method: 'GET', url: '/v1/companies/export?format=ndjson', headers: h.user('manager').auth });
  t.equal(other.statusCode, 200, 'another caller is not affected');
});

/** A fresh app on the same database: the credential budgets are per app (per process). */
async function freshApp(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const app = await startTestApp({ db, env });
  t.teardown(() => app.close());
  return app;
}

const wrongLogin = (email: string) => `mutation { login(email: "${email}", password: "a wrong password") { accessToken } }`;

t.test('sign-in is throttled per operation: aliased GraphQL logins spend one each', async (t) => {
  const app = await freshApp(t);
  const email = `aliases-${randomUUID().slice(0, 6)}@limits.example`;
  await app.request({ method: 'POST', url: '/v1/users', headers: app.user('admin').auth, payload: { email, password: 'the right password', name: 'Aliased', role: 'viewer' } });
  // right passwords, so graphql-js goes on to the next field (a failed non-null field would stop the rest)
  const fields = Array.from({ length: CREDENTIAL_CALLS_PER_MINUTE + 1 }, (_, i) => `l${i}: login(email: "${email}", password: "the right password") { tokenType }`);
  const res = note429('aliased logins', await app.request({ method: 'POST', url: '/graphql', payload: { query: `mutation { ${fields.join(' ')} }` } }));
  const codes = ((res.json().errors ?? []) as { extensions: { code: string } }[]).map((e) => e.extensions.code);
  t.same(codes, ['rate_limited'], `the first ${CREDENTIAL_CALLS_PER_MINUTE} sign in, the one after them is refused`);
  t.equal(res.statusCode, 429, 'no data: the status of the refusal');

  // the same budget is behind the REST door
  const rest = note429('REST login after GraphQL', await app.request({ method: 'POST', url: '/v1/auth/login', payload: { email: 'x@limits.example', password: 'whatever it is' } }));
  t.equal(rest.statusCode, 429);
  assertProblem(t, rest, 429, 'rate_limited', 'REST login');
});

t.test('REST logins spend the budget GraphQL then finds empty', async (t) => {
  const app = await freshApp(t);
  for (let i = 0; i < CREDENTIAL_CALLS_PER_MINUTE; i++) {
    const r = await app.request({ method: 'POST', url: '/v1/auth/login', payload: { email: `rest-${i}-${randomUUID().slice(0, 6)}@limits.example`, password: 'not the password' } });
    if (r.statusCode !== 401) t.fail(`login ${i + 1} → ${r.statusCode}`);
  }
  const gql = note429('GraphQL login after REST', await app.request({ method: 'POST', url: '/graphql', payload: { query: wrongLogin('late@limits.example') } }));
  t.equal(gql.json().errors?.[0]?.extensions.code, 'rate_limited');
});

t.test('refresh and logout draw on one budget each, shared by both doors', async (t) => {
  const app = await freshApp(t);
  const rest = (url: string) => app.request({ method: 'POST', url, payload: { refreshToken: 'rt_not_a_real_token' } });
  const gql = (field: string) => app.request({ method: 'POST', url: '/graphql', payload: { query: `mutation { ${field}(refreshToken: "rt_not_a_real_token")${field === 'logout' ? '' : ' { accessToken }'} }` } });
  for (let i = 0; i < CREDENTIAL_CALLS_PER_MINUTE; i++) {
    const [r, g] = i % 2 ? [await rest('/v1/auth/refresh'), await gql('logout')] : [await gql('refreshToken'), await rest('/v1/auth/logout')];
    if (r.statusCode !== 401 || g.statusCode !== 401) t.fail(`call ${i + 1}: ${r.statusCode}, ${g.statusCode}`);
  }
  const refresh = note429('refresh over budget', await gql('refreshToken'));
  t.equal(refresh.json().errors?.[0]?.extensions.code, 'rate_limited', 'refresh: the call over the budget');
  const logout = note429('logout over budget', await rest('/v1/auth/logout'));
  t.equal(logout.statusCode, 429, 'logout: the call over the budget');
  assertProblem(t, logout, 429, 'rate_limited', 'logout');
});

t.test('the global per-caller limit answers 429 with Retry-After on both doors', async (t) => {
  const app = await freshApp(t, { RATE_LIMIT_MAX: '3' });
  const caller = app.user('viewer');
  for (let i = 0; i < 3; i++) t.equal((await app.request({ method: 'GET', url: '/v1/companies', headers: caller.auth })).statusCode, 200);
  const rest = note429('global REST', await app.request({ method: 'GET', url: '/v1/companies', headers: caller.auth }));
  t.equal(rest.statusCode, 429);
  assertProblem(t, rest, 429, 'rate_limited', 'global limit');
  const gql = note429('global GraphQL', await app.request({ method: 'POST', url: '/graphql', headers: caller.auth, payload: { query: '{ companiesCount }' } }));
  t.equal(gql.statusCode, 429);
});

t.test('account lockout after repeated failures answers 429 with Retry-After on both doors', async (t) => {
  const app = await freshApp(t);
  const email = `locked-${randomUUID().slice(0, 6)}@limits.example`;
  await app.request({ method: 'POST', url: '/v1/users', headers: app.user('admin').auth, payload: { email, password: 'the right password', name: 'Locked', role: 'viewer' } });
  const codes: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = note429('account lockout (GraphQL)', await app.request({ method: 'POST', url: '/graphql', payload: { query: wrongLogin(email) } }));
    codes.push(res.json().errors?.[0]?.extensions.code);
  }
  t.same(codes, [...Array(5).fill('unauthenticated'), 'rate_limited'], 'five wrong passwords, then the account waits');
  const rest = note429('account lockout (REST)', await app.request({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'the right password' } }));
  t.equal(rest.statusCode, 429, 'even the right password waits');
});

t.test('every 429 seen carries Retry-After', async (t) => {
  t.ok(tooMany.length >= 8, `${tooMany.length} answers with 429`);
  for (const { label, res } of tooMany) {
    const after = Number(res.headers['retry-after']);
    t.ok(Number.isInteger(after) && after >= 1, `${label}: Retry-After ${res.headers['retry-after']}`);
  }
});
