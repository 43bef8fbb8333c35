import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// POST /v1/companies: defaults, normalisation, and every way a body can be refused (API.md §1, §3, §5b).

const h = await startTestApp();
t.teardown(() => h.close());

const team1 = randomUUID();
const team2 = randomUUID();
const admin = h.user('admin', { teamIds: [team1, team2] });

const create = (body: unknown, headers: Record<string, string> = {}) =>
  h.request({ method: 'POST', url: '/v1/companies', headers: { ...admin.auth, ...headers }, payload: body as object });

type Asserts = Pick<typeof t, 'equal' | 'match'>;

/** The problem body of a refusal, checked for the RFC 9457 shape every error shares. */
function problem(t: Asserts, res: { statusCode: number; headers: Record<string, unknown>; json: () => any }, status: number, code: string) {
  t.equal(res.statusCode, status, `status ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json();
  t.match(body, { status, code, type: String, title: String, detail: String, requestId: String });
  return body as { errors?: { path: string; message: string }[]; [k: string]: unknown };
}

const paths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((e) => e.path);
const messageAt = (body: { errors?: { path: string; message: string }[] }, path: string) =>
  body.errors?.find((e) => e.path === path)?.message;

/** Companies named `name` that exist, so a refused request can be shown to have written nothing. */
async function countNamed(name: string): Promise<number> {
  const res = await h.request({ method: 'GET', url: '/v1/companies/count', headers: admin.auth, query: { 'filter[name][eq]': name } });
  return res.json().count as number;
}

t.test('create answers 201 with Location, ETag "1" and the stored record', async (t) => {
  const res = await create({ name: 'Acme Trading', domain: '  WWW.Acme-Trading.COM ', tags: ['vip'] });
  t.equal(res.statusCode, 201);
  const c = res.json();
  t.match(c.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID v7');
  t.equal(res.headers.location, `/v1/companies/${c.id}`);
  t.equal(res.headers.etag, '"1"');
  t.equal(c.version, 1);
  t.equal(c.domain, 'www.acme-trading.com', 'domain trimmed and lower-cased');
  t.equal(c.ownerId, admin.id, 'owner defaults to the caller');
  t.equal(c.teamId, team1, "team defaults to the caller's first team");
  t.equal(c.deletedAt, null);
  t.same(c.tags, ['vip']);
  t.same(c.custom, {});
  t.same(c.externalIds, {});
  t.match(c.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

  const read = await h.request({ method: 'GET', url: res.headers.location as string, headers: admin.auth });
  t.equal(read.statusCode, 200);
  t.same(read.json(), c, 'the Location serves what create answered');
});

t.test('a caller without teams gets no team; explicit owner and team are kept', async (t) => {
  const loner = h.user('manager');
  const res = await h.request({ method: 'POST', url: '/v1/companies', headers: loner.auth, payload: { name: 'No Team Co' } });
  t.equal(res.statusCode, 201);
  t.equal(res.json().teamId, null);
  t.equal(res.json().ownerId, loner.id);

  const other = randomUUID();
  const given = await create({ name: 'Given Owner Co', ownerId: other, teamId: team2 });
  t.equal(given.statusCode, 201);
  t.equal(given.json().ownerId, other);
  t.equal(given.json().teamId, team2);

  const unowned = await create({ name: 'Unowned Co', ownerId: null });
  t.equal(unowned.json().ownerId, null, 'an explicit null owner is not replaced by the caller');
});

t.test('phones are stored as E.164, read in DEFAULT_PHONE_REGION when written without +', async (t) => {
  const local = await create({ name: 'Riyadh Office', phone: '0112345678' });
  t.equal(local.statusCode, 201);
  t.equal(local.json().phone, '+966112345678');

  const intl = await create({ name: 'London Office', phone: '+44 20 7946 0958' });
  t.equal(intl.json().phone, '+442079460958');

  const uae = await startTestApp({ env: { DEFAULT_PHONE_REGION: 'AE' }, db: h.db });
  t.teardown(() => uae.close()); // shares h's database: closes only its app
  const res = await uae.request({
    method: 'POST', url: '/v1/companies', headers: uae.user('admin').auth, payload: { name: 'Dubai Office', phone: '042345678' },
  });
  t.equal(res.json().phone, '+97142345678', 'the configured region decides');
});

t.test("annualRevenue is a decimal string with the currency's minor units", async (t) => {
  const kwd = await create({ name: 'Kuwait Co', annualRevenue: '1234.5', currency: 'KWD' });
  t.equal(kwd.statusCode, 201);
  t.equal(kwd.json().annualRevenue, '1234.500', 'KWD has 3 decimals');

  const jpy = await create({ name: 'Tokyo Co', annualRevenue: '1000000', currency: 'JPY' });
  t.equal(jpy.json().annualRevenue, '1000000', 'JPY has none');

  const sar = await create({ name: 'Riyadh Co', annualRevenue: '99.9', currency: 'SAR' });
  t.equal(sar.json().annualRevenue, '99.90');

  const tooPrecise = problem(t, await create({ name: 'Yen Fraction', annualRevenue: '10.5', currency: 'JPY' }), 400, 'validation_failed');
  t.same(paths(tooPrecise), ['annualRevenue']);

  const noCurrency = problem(t, await create({ name: 'No Currency', annualRevenue: '10' }), 400, 'validation_failed');
  t.same(paths(noCurrency), ['currency']);

  const float = problem(t, await create({ name: 'Float Revenue', annualRevenue: 10.5, currency: 'SAR' }), 400, 'validation_failed');
  t.same(paths(float), ['annualRevenue'], 'a JSON number is refused: money is never a float');
});

t.test('validation failures are problem+json 400 with one entry per bad field, and write nothing', async (t) => {
  const cases: { title: string; body: Record<string, unknown>; path: string; message?: RegExp }[] = [
    { title: 'unknown field', body: { name: 'V Unknown', nickname: 'x' }, path: 'nickname', message: /^is not a known field$/ },
    { title: 'read-only id', body: { name: 'V Id', id: randomUUID() }, path: 'id', message: /^is read-only$/ },
    { title: 'read-only version', body: { name: 'V Version', version: 3 }, path: 'version', message: /^is read-only$/ },
    { title: 'read-only createdAt', body: { name: 'V Created', createdAt: '2020-01-01T00:00:00.000Z' }, path: 'createdAt', message: /^is read-only$/ },
    { title: 'bad phone', body: { name: 'V Phone', phone: '12' }, path: 'phone', message: /not a valid phone number/ },
    { title: 'bad domain', body: { name: 'V Domain', domain: 'not a domain' }, path: 'domain', message: /domain name/ },
    { title: 'domain with a scheme', body: { name: 'V Scheme', domain: 'https://x.com' }, path: 'domain' },
    { title: 'lower-case currency', body: { name: 'V Cur', currency: 'sar' }, path: 'currency' },
    { title: 'unknown currency', body: { name: 'V Cur2', currency: 'XYZ' }, path: 'currency', message: /ISO 4217/ },
    { title: 'negative employees', body: { name: 'V Emp', employees: -1 }, path: 'employees' },
    { title: 'bad nested address', body: { name: 'V Addr', address: { country: 'Saudi' } }, path: 'address.country' },
    { title: 'unknown address key', body: { name: 'V Addr2', address: { street: 'x' } }, path: 'address.street', message: /^is not a known field$/ },
    { title: 'custom value without a definition', body: { name: 'V Custom', custom: { tier: 'gold' } }, path: 'custom.tier', message: /^is not a defined custom field$/ },
  ];
  for (const c of cases) {
    const body = problem(t, await create(c.body), 400, 'validation_failed');
    t.same(paths(body), [c.path], `${c.title}: errors[] names ${c.path}`);
    if (c.message) t.match(messageAt(body, c.path), c.message, `${c.title}: message`);
    t.equal(await countNamed(c.body.name as string), 0, `${c.title}: nothing written`);
  }

  // every bad field at once: the shape first (zod), then phone, money and custom values
  const several = problem(t, await create({ name: 'V Several', domain: 'bad', employees: 1.5, color: 'red' }), 400, 'validation_failed');
  t.same(paths(several).sort(), ['color', 'domain', 'employees']);
  const checks = problem(t, await create({ name: 'V Several', phone: 'abc', annualRevenue: '1.5', currency: 'JPY', custom: { a: 1 } }), 400, 'validation_failed');
  t.same(paths(checks).sort(), ['annualRevenue', 'custom.a', 'phone']);
  t.equal(await countNamed('V Several'), 0);
});

t.test('a body without name, or not an object, is refused', async (t) => {
  const missing = problem(t, await create({ domain: 'noname.example' }), 400, 'validation_failed');
  t.same(paths(missing), ['name']);
  const blank = problem(t, await create({ name: '   ' }), 400, 'validation_failed');
  t.same(paths(blank), ['name'], 'a name of spaces is empty after trimming');
  const array = await create([{ name: 'In An Array' }]);
  problem(t, array, 400, 'validation_failed');
});

t.test('malformed JSON is a 400 validation_failed, not a 500', async (t) => {
  const res = await h.request({
    method: 'POST', url: '/v1/companies', headers: { ...admin.auth, 'content-type': 'application/json' }, payload: '{"name": "Broken',
  });
  const body = problem(t, res, 400, 'validation_failed');
  t.ok(Array.isArray(body.errors) && body.errors.length > 0, 'errors[] says what is wrong');
});

t.test('a text/plain body is 415 unsupported_media_type', async (t) => {
  const res = await h.request({
    method: 'POST', url: '/v1/companies', headers: { ...admin.auth, 'content-type': 'text/plain' }, payload: 'name=Plain Text Co',
  });
  problem(t, res, 415, 'unsupported_media_type');
  t.equal(await countNamed('Plain Text Co'), 0);
});

t.test('a JSON body over 1 MiB is 413 payload_too_large', async (t) => {
  const name = `Huge ${randomUUID()}`;
  const res = await h.request({
    method: 'POST', url: '/v1/companies', headers: { ...admin.auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ name, industry: 'x'.repeat(1024 * 1024) }),
  });
  problem(t, res, 413, 'payload_too_large');
  t.equal(await countNamed(name), 0);
});

t.test('a live domain is unique (409 conflict); a deleted company frees it', async (t) => {
  const first = await create({ name: 'Unique One', domain: 'unique.example' });
  t.equal(first.statusCode, 201);

  const dup = problem(t, await create({ name: 'Unique Two', domain: 'UNIQUE.example' }), 409, 'conflict');
  t.same(paths(dup), ['domain'], 'the conflict names the field, case-insensitively');
  t.equal(await countNamed('Unique Two'), 0);

  const del = await h.request({ method: 'DELETE', url: `/v1/companies/${first.json().id}`, headers: admin.auth });
  t.equal(del.statusCode, 204);
  const reuse = await create({ name: 'Unique Three', domain: 'unique.example' });
  t.equal(reuse.statusCode, 201, 'the domain of a deleted company can be used again');
  t.not(reuse.json().id, first.json().id);

  // restoring the first one now would make two live companies with one domain
  const restore = await h.request({ method: 'POST', url: `/v1/companies/${first.json().id}/restore`, headers: admin.auth });
  problem(t, restore, 409, 'conflict');
});

t.test('every response carries X-Request-Id, and a valid caller id is echoed into the problem', async (t) => {
  const res = await create({ name: 'V Req', phone: 'nope' }, { 'x-request-id': 'client-req.42' });
  t.equal(res.headers['x-request-id'], 'client-req.42');
  t.equal(res.json().requestId, 'client-req.42');
});
