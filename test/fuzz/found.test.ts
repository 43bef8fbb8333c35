import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// What the fuzz of openapi.yaml found, pinned down one case each so a regression fails here by name.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const countNamed = async (lastName: string) =>
  (await h.request({ method: 'GET', url: '/v1/contacts/count', headers: admin.auth, query: { 'filter[lastName][eq]': lastName } })).json().count;

t.test('a path segment over the router limit is a problem+json 400 with the request id, not Fastify\'s own JSON', async (t) => {
  const res = await h.request({ method: 'GET', url: `/v1/companies/${'x'.repeat(300)}`, headers: { ...admin.auth, 'x-request-id': 'long-param-1' } });
  t.equal(res.statusCode, 400);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  t.match(res.json(), { code: 'validation_failed', status: 400, requestId: 'long-param-1' });
  t.equal(res.headers['x-request-id'], 'long-param-1');
});

t.test('a NUL character in a body field is 400 naming the field, and nothing is written', async (t) => {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName: 'Nul', lastName: 'Nul\u0000Body' } });
  t.equal(res.statusCode, 400, 'it was a 500: PostgreSQL cannot store NUL in text');
  t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'lastName' }] });
  t.equal(await countNamed('Nul\u0000Body'.replace('\u0000', '')), 0);

  const nested = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { lastName: 'Nested', address: { city: 'a\u0000b' }, tags: ['ok', 'x\u0000'] } });
  t.equal(nested.statusCode, 400);
  t.same(nested.json().errors.map((e: { path: string }) => e.path).sort(), ['address.city', 'tags.1']);
  t.equal(await countNamed('Nested'), 0);
});

t.test('a NUL character in the query string is 400 naming the parameter', async (t) => {
  const res = await h.request({ method: 'GET', url: '/v1/companies/count?q=a%00b', headers: admin.auth });
  t.equal(res.statusCode, 400, 'it was a 500');
  t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'q' }] });
});

t.test('GraphQL: a NUL character in a variable is validation_failed too (through the database translation)', async (t) => {
  const r = await h.gql(admin, 'mutation($input: ContactCreateInput!) { createContact(input: $input) { id } }', { input: { lastName: 'Gql\u0000Nul' } });
  t.equal(r.body.errors?.[0]?.extensions.code, 'validation_failed', 'it was internal_error');
  t.equal(await countNamed('GqlNul'), 0);
});
