import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// A realistic session at LOG_LEVEL=info, every log line captured: sign-ins (good and bad), rotation,
// API keys made and used, users made and re-passworded, clients making mistakes with credentials in
// them. No password, access token, refresh token or API key may appear anywhere in the log text.

const lines: string[] = [];
const logStream = new PassThrough();
logStream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
const h = await startTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
t.teardown(() => h.close());
const admin = h.user('admin');

const secrets = new Map<string, string>([['admin access token', admin.token]]);
const keep = (what: string, value: string) => {
  secrets.set(what, value);
  return value;
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

t.test('a session with credentials flying around logs none of them', async (t) => {
  const email = `logged-${randomUUID().slice(0, 8)}@logs.example`;
  const password = keep('first password', `Pw-first-${randomUUID()}`);
  const created = await h.request({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email, password, name: 'Logged User', role: 'sales' } });
  t.equal(created.statusCode, 201);
  const userId = created.json().id;

  const wrong = keep('mistyped password', `Pw-wrong-${randomUUID()}`);
  t.equal((await h.request({ method: 'POST', url: '/v1/auth/login', payload: { email, password: wrong } })).statusCode, 401);
  const login = await h.request({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  t.equal(login.statusCode, 200);
  const first = login.json();
  keep('access token', first.accessToken);
  keep('refresh token', first.refreshToken);
  t.equal((await h.request({ method: 'GET', url: '/v1/me', headers: bearer(first.accessToken) })).statusCode, 200);

  const rotated = await h.request({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: first.refreshToken } });
  t.equal(rotated.statusCode, 200);
  keep('rotated access token', rotated.json().accessToken);
  keep('rotated refresh token', rotated.json().refreshToken);
  t.equal((await h.request({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: first.refreshToken } })).statusCode, 401, 'a reuse, refused');

  const key = await h.request({ method: 'POST', url: '/v1/api-keys', headers: admin.auth, payload: { name: 'logged key', role: 'manager' } });
  t.equal(key.statusCode, 201);
  const apiKey = keep('API key', key.json().key);
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: bearer(apiKey) })).statusCode, 200);
  t.equal((await h.request({ method: 'POST', url: '/v1/companies', headers: bearer(apiKey), payload: { name: 'Logged Co' } })).statusCode, 201);
  const viaGql = await h.gql({ id: 'k', role: 'manager', teamIds: [], token: apiKey, auth: bearer(apiKey) }, '{ companies(first: 1) { edges { node { id } } } }');
  t.equal(viaGql.status, 200);

  const second = keep('changed password', `Pw-second-${randomUUID()}`);
  t.equal((await h.request({ method: 'PATCH', url: `/v1/users/${userId}`, headers: admin.auth, payload: { password: second } })).statusCode, 200);
  const third = keep('GraphQL user password', `Pw-third-${randomUUID()}`);
  const gqlUser = await h.gql(admin, 'mutation($i: UserCreateInput!) { createUser(input: $i) { id } }', { i: { email: `g-${email}`, password: third, name: 'G', role: 'viewer' } });
  t.type(gqlUser.body.data?.createUser.id, 'string');

  const gqlLogin = await h.gql(undefined, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }', { e: email, p: second });
  t.equal(gqlLogin.status, 200);
  keep('GraphQL access token', gqlLogin.body.data?.login.accessToken);
  keep('GraphQL refresh token', gqlLogin.body.data?.login.refreshToken);
  const inline = keep('password inline in a query', `Pw-inline-${randomUUID()}`);
  const inlineLogin = await h.gql(undefined, `mutation { login(email: "${email}", password: "${inline}") { accessToken } }`);
  t.equal(inlineLogin.status, 401);

  // Client mistakes that carry credentials to the server in unusual places.
  const broken = keep('password in a malformed body', `Pw-broken-${randomUUID()}`);
  const malformed = await h.request({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: `{"email":"${email}","password":"${broken}"` });
  t.equal(malformed.statusCode, 400);
  const viaGet = keep('password in a GraphQL GET', `Pw-get-${randomUUID()}`);
  const getMutation = await h.request({ method: 'GET', url: '/graphql', query: { query: `mutation { login(email: "${email}", password: "${viaGet}") { accessToken } }` } });
  t.equal(getMutation.statusCode, 400, 'mutations are refused over GET');
  const getVars = keep('password in GraphQL GET variables', `Pw-vars-${randomUUID()}`);
  await h.request({ method: 'GET', url: '/graphql', query: { query: 'query($p: String) { me { id } }', variables: JSON.stringify({ p: getVars }) } });
  const inQuery = await h.request({ method: 'GET', url: '/v1/companies', query: { access_token: rotated.json().accessToken } });
  t.equal(inQuery.statusCode, 401, 'a token in the query string is not a credential');
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: bearer(`${first.accessToken}tampered`) })).statusCode, 401);
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: { authorization: `Basic ${Buffer.from(`${email}:${second}`).toString('base64')}` } })).statusCode, 401);
  keep('basic credentials', Buffer.from(`${email}:${second}`).toString('base64'));
  t.equal((await h.request({ method: 'POST', url: '/graphql', headers: bearer(`${apiKey}x`), payload: { query: '{ me { id } }' } })).statusCode, 401);

  t.equal((await h.request({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: gqlLogin.body.data?.login.refreshToken } })).statusCode, 204);
  t.equal((await h.request({ method: 'DELETE', url: `/v1/api-keys/${key.json().id}`, headers: admin.auth })).statusCode, 204);
  t.equal((await h.request({ method: 'GET', url: '/v1/companies', headers: bearer(apiKey) })).statusCode, 401, 'the revoked key, refused');
});

t.test('the captured log holds none of the secrets', async (t) => {
  await new Promise((r) => setImmediate(r));
  const text = lines.join('');
  t.ok(text.includes('"msg":"incoming request"') && text.includes('/v1/auth/login'), 'the session was logged at info');
  t.ok(text.split('\n').length > 40, 'one line or more per request');
  for (const [what, secret] of secrets) {
    t.ok(secret && secret.length >= 20, `${what} is a real value`);
    t.notOk(text.includes(secret), `${what} is not in the log`);
    // Tokens are long: a leaked fragment is a leak too (e.g. a cut-off URL or a JSON error excerpt).
    if (secret.length > 40) t.notOk(text.includes(secret.slice(-24)), `no fragment of the ${what} either`);
  }
});
