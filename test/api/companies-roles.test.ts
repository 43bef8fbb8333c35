import { createHmac, randomUUID } from 'node:crypto';
import t from 'tap';
import { TEST_JWT_SECRET, startTestApp } from '../helpers/app.js';

// Who may do what to companies (API.md §4): the role table, sales' ownership scope, the ownerId
// field rule, and authentication failures — all 401/403 problems, never a silent success.

const h = await startTestApp();
t.teardown(() => h.close());

const admin = h.user('admin');
const salesTeam = randomUUID();
const sales = h.user('sales', { teamIds: [salesTeam] });
const colleague = randomUUID();

async function createAs(body: Record<string, unknown>, who = admin) {
  const res = await h.request({ method: 'POST', url: '/v1/companies', headers: who.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const patchAs = (who: { auth: Record<string, string> }, id: string, body: unknown) =>
  h.request({ method: 'PATCH', url: `/v1/companies/${id}`, headers: who.auth, payload: body as object });
const get = (id: string) => h.request({ method: 'GET', url: `/v1/companies/${id}`, headers: admin.auth });

/** An HS256 JWT made by hand, so the secret and claims can be anything. */
function jwt(claims: Record<string, unknown>, secret = TEST_JWT_SECRET): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    sub: randomUUID(), role: 'admin', teamIds: [], iss: h.config.jwt.issuer, aud: h.config.jwt.audience, iat: now, exp: now + 300, ...claims,
  })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

t.test('viewer reads but may not write', async (t) => {
  const viewer = h.user('viewer');
  const c = await createAs({ name: 'Viewed Co' });
  t.equal((await h.request({ method: 'GET', url: `/v1/companies/${c.id}`, headers: viewer.auth })).statusCode, 200);
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: viewer.auth })).statusCode, 200);
  t.equal((await h.request({ method: 'GET', url: '/v1/companies/count', headers: viewer.auth })).statusCode, 200);

  const writes = [
    { method: 'POST' as const, url: '/v1/companies', payload: { name: 'Viewer Made' } },
    { method: 'PATCH' as const, url: `/v1/companies/${c.id}`, payload: { name: 'Viewer Renamed' } },
    { method: 'DELETE' as const, url: `/v1/companies/${c.id}` },
    { method: 'POST' as const, url: `/v1/companies/${c.id}/restore` },
    { method: 'POST' as const, url: '/v1/companies/batch', payload: { operation: 'create', records: [{ name: 'Viewer Batch' }] } },
  ];
  for (const w of writes) {
    const res = await h.request({ ...w, headers: viewer.auth });
    t.equal(res.statusCode, 403, `${w.method} ${w.url}`);
    t.match(res.json(), { code: 'forbidden', status: 403, detail: /viewer/ });
  }
  t.match((await get(c.id)).json(), { name: 'Viewed Co', version: 1, deletedAt: null }, 'nothing changed');
  const made = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { 'filter[name][startsWith]': 'Viewer ' } });
  t.equal(made.json().count, 0);
});

t.test('sales writes its own, its team\'s and unowned companies, not a colleague\'s', async (t) => {
  const own = await createAs({ name: 'Sales Own' }, sales);
  t.equal(own.ownerId, sales.id);
  t.equal(own.teamId, salesTeam);
  t.equal((await patchAs(sales, own.id, { industry: 'saas' })).statusCode, 200, 'own');

  const unowned = await createAs({ name: 'Nobody\'s', ownerId: null, teamId: null });
  t.equal((await patchAs(sales, unowned.id, { industry: 'saas' })).statusCode, 200, 'unowned');
  const claimed = await patchAs(sales, unowned.id, { ownerId: sales.id });
  t.equal(claimed.statusCode, 200, 'sales may take an unowned company');
  t.equal(claimed.json().ownerId, sales.id);

  const teams = await createAs({ name: 'Team Mate\'s', ownerId: colleague, teamId: salesTeam });
  t.equal((await patchAs(sales, teams.id, { industry: 'saas' })).statusCode, 200, 'team');

  const theirs = await createAs({ name: 'Colleague\'s', ownerId: colleague, teamId: randomUUID() });
  const read = await h.request({ method: 'GET', url: `/v1/companies/${theirs.id}`, headers: sales.auth });
  t.equal(read.statusCode, 200, 'sales reads every company');
  const res = await patchAs(sales, theirs.id, { industry: 'stolen' });
  t.equal(res.statusCode, 403);
  t.equal(res.json().code, 'forbidden');
  const del = await h.request({ method: 'DELETE', url: `/v1/companies/${theirs.id}`, headers: sales.auth });
  t.equal(del.statusCode, 403);
  t.match((await get(theirs.id)).json(), { industry: null, deletedAt: null, version: 1 }, 'untouched');

  t.equal((await h.request({ method: 'DELETE', url: `/v1/companies/${own.id}`, headers: sales.auth })).statusCode, 204, 'own: delete');
});

t.test('only admin and manager may give a company to someone else; the refusal names the field', async (t) => {
  const other = randomUUID();
  const create = await h.request({ method: 'POST', url: '/v1/companies', headers: sales.auth, payload: { name: 'Gift Co', ownerId: other } });
  t.equal(create.statusCode, 403);
  t.match(create.json(), { code: 'forbidden', errors: [{ path: 'ownerId' }] });

  const otherTeam = await h.request({ method: 'POST', url: '/v1/companies', headers: sales.auth, payload: { name: 'Gift Co', teamId: randomUUID() } });
  t.equal(otherTeam.statusCode, 403);
  t.match(otherTeam.json(), { errors: [{ path: 'teamId' }] });

  const own = await createAs({ name: 'Keep Co' }, sales);
  const give = await patchAs(sales, own.id, { ownerId: other });
  t.equal(give.statusCode, 403);
  t.match(give.json(), { code: 'forbidden', errors: [{ path: 'ownerId' }] });
  t.equal((await get(own.id)).json().ownerId, sales.id, 'still the owner');

  const self = await createAs({ name: 'Self Co', ownerId: sales.id }, sales);
  t.equal(self.ownerId, sales.id, 'naming oneself is allowed');
  const count = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { 'filter[name][eq]': 'Gift Co' } });
  t.equal(count.json().count, 0);

  for (const role of ['manager', 'admin'] as const) {
    const boss = h.user(role);
    const res = await patchAs(boss, own.id, { ownerId: other });
    t.equal(res.statusCode, 200, `${role} may reassign`);
    t.equal(res.json().ownerId, other);
  }
});

t.test('support and marketing write any company', async (t) => {
  const c = await createAs({ name: 'Shared Co', ownerId: colleague });
  for (const role of ['support', 'marketing'] as const) {
    const res = await patchAs(h.user(role), c.id, { tags: [role] });
    t.equal(res.statusCode, 200, role);
    t.same(res.json().tags, [role]);
  }
});

t.test('authentication failures are 401 problems', async (t) => {
  const c = await createAs({ name: 'Guarded Co' });
  const url = `/v1/companies/${c.id}`;
  const ok = await h.request({ method: 'GET', url, headers: { authorization: `Bearer ${jwt({})}` } });
  t.equal(ok.statusCode, 200, 'a hand-made token with the right secret works, so the refusals below are about the token');

  const cases: [string, Record<string, string>][] = [
    ['no token', {}],
    ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['garbage token', { authorization: 'Bearer not.a.jwt' }],
    ['another secret', { authorization: `Bearer ${jwt({}, 'some-other-secret-that-is-long-enough-0123')}` }],
    ['expired', { authorization: `Bearer ${jwt({ exp: Math.floor(Date.now() / 1000) - 60 })}` }],
    ['other audience', { authorization: `Bearer ${jwt({ aud: 'someone-else' })}` }],
    ['unknown role', { authorization: `Bearer ${jwt({ role: 'root' })}` }],
    ['unknown API key', { authorization: 'Bearer crm_not_a_real_key' }],
  ];
  for (const [what, headers] of cases) {
    for (const req of [{ method: 'GET' as const, url }, { method: 'POST' as const, url: '/v1/companies', payload: { name: 'Intruder Co' } }]) {
      const res = await h.request({ ...req, headers });
      t.equal(res.statusCode, 401, `${what}: ${req.method}`);
      t.match(res.headers['content-type'], /^application\/problem\+json/);
      t.equal(res.json().code, 'unauthenticated');
    }
  }
  const made = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { 'filter[name][eq]': 'Intruder Co' } });
  t.equal(made.json().count, 0);

  const gql = await h.request({ method: 'POST', url: '/graphql', headers: { authorization: 'Bearer not.a.jwt' }, payload: { query: '{ companiesCount }' } });
  t.equal(gql.statusCode, 401, 'GraphQL refuses a bad token the same way');
  const anon = await h.gql(undefined, `{ company(id: "${c.id}") { id } }`);
  t.equal(anon.body.errors?.[0]?.extensions.code, 'unauthenticated', 'and answers an anonymous query unauthenticated');
  t.notOk(anon.body.data?.company, 'without the record');
});
