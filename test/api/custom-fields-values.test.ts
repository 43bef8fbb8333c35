import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Custom values on company writes (API.md §5): every type checked and normalised, unknown keys and
// required fields, over REST, GraphQL and batch alike; errors name `custom.<key>`.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

const DEFS = [
  { key: 'note', type: 'text' },
  { key: 'score', type: 'number' },
  { key: 'active', type: 'boolean' },
  { key: 'since', type: 'date' },
  { key: 'seen_at', type: 'datetime' },
  { key: 'tier', type: 'select', options: ['gold', 'silver'] },
  { key: 'channels', type: 'multiselect', options: ['web', 'shop', 'app'] },
  { key: 'billing_email', type: 'email' },
  { key: 'site', type: 'url' },
  { key: 'hotline', type: 'phone' },
  { key: 'credit', type: 'currency' },
];
for (const d of DEFS) {
  const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'company', label: d.key, ...d } });
  if (res.statusCode !== 201) throw new Error(`definition failed: ${res.body}`);
}

/** [key, good value, what is stored][] */
const GOOD: [string, unknown, unknown][] = [
  ['note', 'hello', 'hello'],
  ['score', 3.14159, 3.14159],
  ['active', false, false],
  ['since', '2024-02-29', '2024-02-29'],
  ['seen_at', '2026-01-02T05:04:05+02:00', '2026-01-02T03:04:05.000Z'],
  ['tier', 'gold', 'gold'],
  ['channels', ['web', 'app'], ['web', 'app']],
  ['billing_email', ' Billing@Example.COM ', 'billing@example.com'],
  ['site', 'https://example.com/a?b=1', 'https://example.com/a?b=1'],
  ['hotline', '+966 50 123 4567', '+966501234567'],
  ['credit', '1234.50', '1234.50'],
];

const BAD: [string, unknown][] = [
  ['note', 42],
  ['score', '12'],
  ['score', true],
  ['active', 'true'],
  ['since', '2023-02-29'],
  ['since', '2024-1-5'],
  ['seen_at', '2026-01-02'],
  ['seen_at', 'yesterday'],
  ['tier', 'platinum'],
  ['tier', ['gold']],
  ['channels', 'web'],
  ['channels', ['web', 'web']],
  ['channels', ['web', 'fax']],
  ['billing_email', 'not-an-email'],
  ['site', 'ftp://example.com'],
  ['site', 'javascript:alert(1)'],
  ['hotline', '12'],
  ['credit', 12.5],
  ['credit', '12.345678'],
];

const create = (payload: Record<string, unknown>) =>
  h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload });

t.test('REST: every type accepts a good value and stores it normalised', async (t) => {
  const custom = Object.fromEntries(GOOD.map(([k, v]) => [k, v]));
  const res = await create({ name: 'Typed', custom });
  t.equal(res.statusCode, 201, res.body);
  t.same(res.json().custom, Object.fromEntries(GOOD.map(([k, , stored]) => [k, stored])));
  const read = await h.request({ method: 'GET', url: `/v1/companies/${res.json().id}`, headers: admin.auth });
  t.same(read.json().custom, res.json().custom, 'stored as answered');
});

t.test('REST: every bad value is refused on create and patch, path custom.<key>', async (t) => {
  const target = (await create({ name: 'Patched' })).json();
  for (const [key, value] of BAD) {
    const c = await create({ name: 'Bad', custom: { [key]: value } });
    t.equal(c.statusCode, 400, `create ${key}=${JSON.stringify(value)}`);
    t.same(c.json().errors?.map((e: { path: string }) => e.path), [`custom.${key}`]);
    const p = await h.request({ method: 'PATCH', url: `/v1/companies/${target.id}`, headers: admin.auth, payload: { custom: { [key]: value } } });
    t.equal(p.statusCode, 400, `patch ${key}=${JSON.stringify(value)}`);
    t.same(p.json().errors?.map((e: { path: string }) => e.path), [`custom.${key}`]);
  }
  const after = await h.request({ method: 'GET', url: `/v1/companies/${target.id}`, headers: admin.auth });
  t.same(after.json().custom, {});
  t.equal(after.json().version, 1, 'no refused patch wrote anything');
});

t.test('unknown keys are refused, each named', async (t) => {
  const res = await create({ name: 'Unknown', custom: { tier: 'gold', nope: 1, other: 'x' } });
  t.equal(res.statusCode, 400);
  t.same(
    res.json().errors.map((e: { path: string; message: string }) => [e.path, e.message]).sort(),
    [['custom.nope', 'is not a defined custom field'], ['custom.other', 'is not a defined custom field']],
  );
});

t.test('patch merges custom values; null removes an optional one', async (t) => {
  const c = (await create({ name: 'Merge', custom: { tier: 'gold', note: 'a' } })).json();
  const p = await h.request({ method: 'PATCH', url: `/v1/companies/${c.id}`, headers: admin.auth, payload: { custom: { note: null, score: 2 } } });
  t.equal(p.statusCode, 200, p.body);
  t.same(p.json().custom, { tier: 'gold', score: 2 });
});

t.test('required: present on create, never removed by patch, other patches unaffected', async (t) => {
  const def = (await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'company', key: 'segment', label: 'Segment', type: 'text', required: true } })).json();
  t.teardown(async () => void (await h.request({ method: 'DELETE', url: `/v1/custom-fields/${def.id}`, headers: admin.auth })));
  const missing = await create({ name: 'No segment' });
  t.equal(missing.statusCode, 400);
  t.same(missing.json().errors, [{ path: 'custom.segment', message: 'is required' }]);
  const nulled = await create({ name: 'Null segment', custom: { segment: null } });
  t.equal(nulled.statusCode, 400);
  const ok = await create({ name: 'Segmented', custom: { segment: 'smb' } });
  t.equal(ok.statusCode, 201, ok.body);
  const removed = await h.request({ method: 'PATCH', url: `/v1/companies/${ok.json().id}`, headers: admin.auth, payload: { custom: { segment: null } } });
  t.equal(removed.statusCode, 400);
  t.same(removed.json().errors, [{ path: 'custom.segment', message: 'is required and may not be removed' }]);
  const rename = await h.request({ method: 'PATCH', url: `/v1/companies/${ok.json().id}`, headers: admin.auth, payload: { name: 'Renamed' } });
  t.equal(rename.statusCode, 200, 'a patch not touching custom needs no custom values');
});

t.test('GraphQL: the same checks and normalisation', async (t) => {
  const good = await h.gql(admin, 'mutation($c: JSON) { createCompany(input: { name: "G", custom: $c }) { id custom } }', {
    c: { hotline: '+966501234567', seen_at: '2026-01-02T03:04:05Z', channels: ['shop'] },
  });
  t.same(good.body.data?.createCompany.custom, { hotline: '+966501234567', seen_at: '2026-01-02T03:04:05.000Z', channels: ['shop'] });
  for (const [key, value] of BAD) {
    const bad = await h.gql(admin, 'mutation($c: JSON) { createCompany(input: { name: "G", custom: $c }) { id } }', { c: { [key]: value } });
    t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed', `${key}=${JSON.stringify(value)}`);
    t.same(bad.body.errors?.[0]?.extensions.errors?.map((e) => e.path), [`custom.${key}`]);
  }
  const id = good.body.data?.createCompany.id;
  const upd = await h.gql(admin, 'mutation($id: ID!) { updateCompany(id: $id, input: { custom: { tier: "bronze" } }) { id } }', { id });
  t.same(upd.body.errors?.[0]?.extensions.errors, [{ path: 'custom.tier', message: 'must be one of gold, silver' }]);
  const unknown = await h.gql(admin, 'mutation($id: ID!) { updateCompany(id: $id, input: { custom: { ghost: 1 } }) { id } }', { id });
  t.same(unknown.body.errors?.[0]?.extensions.errors, [{ path: 'custom.ghost', message: 'is not a defined custom field' }]);
});

t.test('batch: bad custom values fail their record only; upserts are checked too', async (t) => {
  const res = await h.request({
    method: 'POST', url: '/v1/companies/batch', headers: admin.auth,
    payload: {
      operation: 'create',
      records: [
        { name: 'B ok', custom: { tier: 'silver', hotline: '0501234567' } },
        { name: 'B bad', custom: { tier: 'platinum' } },
        { name: 'B unknown', custom: { ghost: true } },
      ],
    },
  });
  t.equal(res.statusCode, 200, res.body);
  const [ok, bad, unknown] = res.json().results;
  t.equal(ok.status, 'created');
  t.equal(bad.status, 'error');
  t.same(bad.error.errors.map((e: { path: string }) => e.path), ['custom.tier']);
  t.same(unknown.error.errors.map((e: { path: string }) => e.path), ['custom.ghost']);
  const stored = await h.request({ method: 'GET', url: `/v1/companies/${ok.id}`, headers: admin.auth });
  t.same(stored.json().custom, { tier: 'silver', hotline: '+966501234567' }, 'normalised with DEFAULT_PHONE_REGION (SA)');

  const upsert = await h.request({
    method: 'POST', url: '/v1/companies/batch', headers: admin.auth,
    payload: { operation: 'upsert', idProperty: 'domain', records: [{ domain: 'batch-up.example', name: 'U', custom: { score: 'high' } }, { domain: 'batch-up2.example', name: 'U2', custom: { score: 7 } }] },
  });
  const [u1, u2] = upsert.json().results;
  t.equal(u1.status, 'error');
  t.same(u1.error.errors.map((e: { path: string }) => e.path), ['custom.score']);
  t.equal(u2.status, 'created');

  const gql = await h.gql(admin, 'mutation($r: [JSON!]!) { batchCompanies(operation: create, records: $r) { status error { errors { path } } } }', {
    r: [{ name: 'GB', custom: { since: '2024-13-01' } }],
  });
  t.same(gql.body.data?.batchCompanies, [{ status: 'error', error: { errors: [{ path: 'custom.since' }] } }]);
});

t.test('a deleted definition makes its key unknown again', async (t) => {
  const def = (await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'company', key: 'temp', label: 'Temp', type: 'text' } })).json();
  t.equal((await create({ name: 'Temp 1', custom: { temp: 'x' } })).statusCode, 201);
  await h.request({ method: 'DELETE', url: `/v1/custom-fields/${def.id}`, headers: admin.auth });
  const res = await create({ name: 'Temp 2', custom: { temp: 'x' } });
  t.equal(res.statusCode, 400);
  t.same(res.json().errors, [{ path: 'custom.temp', message: 'is not a defined custom field' }]);
});
