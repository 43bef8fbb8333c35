import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp, type TestUser } from '../helpers/app.js';

// Webhook subscriptions over REST and GraphQL: the secret shown once, merge patches with versions,
// soft delete and restore, validation, roles, and the SSRF guard with private networks NOT allowed
// (the default). Delivery itself is in webhook-delivery.test.ts.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const manager = h.user('manager');

// public addresses (TEST-NET) as literals: no DNS needed, nothing is ever sent in this file
const URL_A = 'https://198.51.100.7/hooks/crm';
const URL_B = 'http://203.0.113.20:8080/in';

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, who: TestUser | null = admin, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...(who ? who.auth : {}), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

async function create(body: Record<string, unknown> = {}) {
  const res = await call('POST', '/v1/webhooks', { url: URL_A, events: ['contact.*'], ...body });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json();
}

t.test('create answers the secret once; reads never show it', async (t) => {
  const res = await call('POST', '/v1/webhooks', { url: URL_A, events: ['contact.*', 'deal.stage_changed'], description: 'ERP sync' });
  t.equal(res.statusCode, 201);
  const hook = res.json();
  t.equal(res.headers.location, `/v1/webhooks/${hook.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(hook, { url: URL_A, events: ['contact.*', 'deal.stage_changed'], enabled: true, description: 'ERP sync', version: 1, failingSince: null, disabledReason: null });
  t.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/, '32 random bytes, generated');
  t.not((await create()).secret, hook.secret, 'a new secret each time');

  const read = await call('GET', `/v1/webhooks/${hook.id}`);
  t.equal(read.statusCode, 200);
  t.equal(read.json().secret, undefined, 'GET omits the secret');
  const { secret: _s, ...withoutSecret } = hook;
  t.same(read.json(), withoutSecret);
  const list = (await call('GET', '/v1/webhooks?limit=200')).json();
  const listed = list.data.find((w: any) => w.id === hook.id);
  t.ok(listed);
  t.equal(listed.secret, undefined, 'lists omit it');

  const given = await create({ secret: 'my-own-secret-of-some-length' });
  t.equal(given.secret, 'my-own-secret-of-some-length', 'a given secret is kept as given');

  const audit = await call('GET', `/v1/audit-logs?entityType=webhook&entityId=${hook.id}`);
  t.notMatch(audit.body, hook.secret, 'the secret is not in the audit log');
  const events = await call('GET', '/v1/events?types=webhook.created&limit=200');
  t.notMatch(events.body, hook.secret, 'nor in the change feed');
});

t.test('validation: unknown and read-only fields, patterns, secrets, urls', async (t) => {
  const bad = async (body: Record<string, unknown>, path: string) => {
    const res = await call('POST', '/v1/webhooks', { url: URL_A, events: ['contact.*'], ...body });
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.match(res.json(), { code: 'validation_failed', errors: [{ path }] }, `${JSON.stringify(body)} → ${path}`);
  };
  await bad({ colour: 'red' }, 'colour');
  await bad({ id: randomUUID() }, 'id');
  await bad({ version: 3 }, 'version');
  await bad({ failingSince: null }, 'failingSince');
  await bad({ events: [] }, 'events');
  await bad({ events: ['contact'] }, 'events.0');
  await bad({ events: ['contact.created', 'Deal.*'] }, 'events.1');
  await bad({ secret: 'short' }, 'secret');
  await bad({ enabled: 'yes' }, 'enabled');
  await bad({ url: 'not a url' }, 'url');
  await bad({ url: 'ftp://198.51.100.7/x' }, 'url');
  await bad({ url: 'https://user:pw@198.51.100.7/x' }, 'url');
  await bad({ url: 'https://no-such-host.invalid/x' }, 'url');
  const missing = await call('POST', '/v1/webhooks', { url: URL_A });
  t.match(missing.json(), { code: 'validation_failed', errors: [{ path: 'events' }] });
});

t.test('SSRF: link-local, metadata, loopback and private addresses are refused in every spelling', async (t) => {
  const refused = [
    'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://metadata.google.internal/computeMetadata/v1/',
    'http://metadata.goog/', 'http://0251.0376.0251.0376/', 'http://[::ffff:169.254.169.254]/', 'http://[fe80::1]/',
    'http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://LOCALHOST./hook', 'http://2130706433/', 'http://0177.0.0.1/',
    'http://0x7f.1/', 'http://127.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://10.0.0.5/', 'http://172.16.3.4/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://0.0.0.0/', 'http://[::]/',
    'http://[fc00::1]/', 'http://[fd12:3456::1]/', 'http://[64:ff9b::7f00:1]/', 'http://[2002:a9fe:a9fe::]/', 'http://224.0.0.1/',
  ];
  for (const url of refused) {
    const res = await call('POST', '/v1/webhooks', { url, events: ['*'] });
    t.equal(res.statusCode, 400, url);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'url' }] });
  }
  const metadata = (await call('POST', '/v1/webhooks', { url: 'http://169.254.169.254/', events: ['*'] })).json();
  t.match(metadata.errors[0].message, /never allowed/);
  const loopback = (await call('POST', '/v1/webhooks', { url: 'http://localhost/', events: ['*'] })).json();
  t.match(loopback.errors[0].message, /WEBHOOK_ALLOW_PRIVATE_NETWORKS/, 'says how private networks are allowed');

  const hook = await create();
  const patched = await call('PATCH', `/v1/webhooks/${hook.id}`, { url: 'http://[::ffff:a9fe:a9fe]/' });
  t.match(patched.json(), { status: 400, errors: [{ path: 'url' }] }, 'a new url is checked on update too');
  t.equal((await call('GET', `/v1/webhooks/${hook.id}`)).json().url, URL_A);
});

t.test('PATCH merges and checks If-Match; a secret can be replaced', async (t) => {
  const hook = await create();
  const res = await call('PATCH', `/v1/webhooks/${hook.id}`, { events: ['company.*'], description: 'x', url: URL_B }, admin, { 'if-match': '"1"' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers.etag, '"2"');
  t.match(res.json(), { events: ['company.*'], description: 'x', url: URL_B, version: 2, enabled: true });
  t.equal(res.json().secret, undefined);

  const stale = await call('PATCH', `/v1/webhooks/${hook.id}`, { enabled: false }, admin, { 'if-match': '"1"' });
  t.equal(stale.statusCode, 412);
  t.match(stale.json(), { code: 'version_conflict', current: { version: 2 } });

  const off = await call('PATCH', `/v1/webhooks/${hook.id}`, { enabled: false, description: null }, manager);
  t.match(off.json(), { enabled: false, description: null, version: 3 });
  const same = await call('PATCH', `/v1/webhooks/${hook.id}`, { enabled: false });
  t.equal(same.json().version, 3, 'no change, no new version');
  t.match((await call('PATCH', `/v1/webhooks/${hook.id}`, { id: randomUUID() })).json(), { status: 400, errors: [{ path: 'id' }] });
  t.match((await call('PATCH', `/v1/webhooks/${hook.id}`, { secret: 'a-new-secret-0123456789' })).json(), { version: 4 }, 'a secret can be replaced');
});

t.test('DELETE is soft; restore undoes; unknown ids 404', async (t) => {
  const hook = await create();
  t.equal((await call('DELETE', `/v1/webhooks/${hook.id}`)).statusCode, 204);
  t.equal((await call('GET', `/v1/webhooks/${hook.id}`)).statusCode, 404);
  t.equal((await call('DELETE', `/v1/webhooks/${hook.id}`)).statusCode, 404);
  const listed = (await call('GET', '/v1/webhooks?limit=200')).json().data.map((w: any) => w.id);
  t.notOk(listed.includes(hook.id));
  const withDeleted = (await call('GET', '/v1/webhooks?limit=200&includeDeleted=true')).json().data.map((w: any) => w.id);
  t.ok(withDeleted.includes(hook.id));
  const restored = await call('POST', `/v1/webhooks/${hook.id}/restore`);
  t.match(restored.json(), { id: hook.id, deletedAt: null });
  t.equal((await call('GET', `/v1/webhooks/${randomUUID()}`)).statusCode, 404);
  t.equal((await call('GET', `/v1/webhooks/${randomUUID()}/deliveries`)).statusCode, 404);
  t.equal((await call('POST', `/v1/webhooks/${hook.id}/deliveries/${randomUUID()}/redeliver`)).statusCode, 404);
});

t.test('lists page with cursors and filter', async (t) => {
  const a = await create({ enabled: false, description: 'page-a' });
  const b = await create({ enabled: false, description: 'page-b' });
  const page1 = (await call('GET', '/v1/webhooks?limit=1&sort=-createdAt&filter[enabled][eq]=false')).json();
  t.equal(page1.data[0].id, b.id);
  const page2 = (await call('GET', `/v1/webhooks?limit=1&sort=-createdAt&filter[enabled][eq]=false&cursor=${page1.nextCursor}`)).json();
  t.equal(page2.data[0].id, a.id);
  t.equal((await call('GET', '/v1/webhooks?filter[secret][eq]=x')).statusCode, 400, 'the secret is not filterable');
});

t.test('roles: configuration (API.md §4): admin and manager write, every role reads; 401 without a token', async (t) => {
  const hook = await create();
  t.equal((await call('POST', '/v1/webhooks', { url: URL_A, events: ['*'] }, manager)).statusCode, 201);
  t.equal((await call('GET', `/v1/webhooks/${hook.id}/deliveries`, undefined, manager)).statusCode, 200);
  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    const u = h.user(role);
    const list = await call('GET', '/v1/webhooks', undefined, u);
    t.equal(list.statusCode, 200, `${role} list`);
    t.notOk(list.json().data.some((w: Record<string, unknown>) => 'secret' in w), `${role} never sees a secret`);
    t.equal((await call('GET', `/v1/webhooks/${hook.id}`, undefined, u)).statusCode, 200, `${role} read`);
    t.equal((await call('GET', `/v1/webhooks/${hook.id}/deliveries`, undefined, u)).statusCode, 200, `${role} deliveries`);
    t.equal((await call('POST', '/v1/webhooks', { url: URL_A, events: ['*'] }, u)).statusCode, 403, `${role} create`);
    t.equal((await call('PATCH', `/v1/webhooks/${hook.id}`, { enabled: false }, u)).statusCode, 403, `${role} update`);
    t.equal((await call('DELETE', `/v1/webhooks/${hook.id}`, undefined, u)).statusCode, 403, `${role} delete`);
    const g = await h.gql(u, 'mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }', { id: hook.id });
    t.equal(g.body.errors?.[0]?.extensions.code, 'forbidden', `${role} write over GraphQL`);
    const r = await h.gql(u, '{ webhooks { edges { node { id } } } }');
    t.notOk(r.body.errors, `${role} reads over GraphQL`);
  }
  t.equal((await call('GET', '/v1/webhooks', undefined, null)).statusCode, 401);
  t.equal((await h.gql(undefined, '{ webhooks { edges { node { id } } } }')).body.errors?.[0]?.extensions.code, 'unauthenticated');
  t.equal((await call('GET', `/v1/webhooks/${hook.id}`)).json().enabled, true, 'refused writes changed nothing');
});

t.test('GraphQL: create shows the secret once, update, delete, restore, errors', async (t) => {
  const FIELDS = 'id version url events enabled description failingSince disabledReason secret';
  const created = await h.gql(manager, `mutation($i: WebhookCreateInput!) { createWebhook(input: $i) { ${FIELDS} } }`, { i: { url: URL_B, events: ['deal.*'] } });
  t.equal(created.body.errors, undefined);
  const hook = created.body.data?.createWebhook;
  t.match(hook, { version: 1, url: URL_B, events: ['deal.*'], enabled: true });
  t.match(hook.secret, /^whsec_/);
  const read = await h.gql(manager, `query($id: ID!) { webhook(id: $id) { ${FIELDS} } }`, { id: hook.id });
  t.same(read.body.data?.webhook, { ...hook, secret: null }, 'reads never show the secret');
  t.same((await call('GET', `/v1/webhooks/${hook.id}`)).json().url, URL_B, 'REST sees the same webhook');

  const UPDATE = `mutation($id: ID!, $i: WebhookPatchInput!, $v: Int) { updateWebhook(id: $id, input: $i, expectedVersion: $v) { ${FIELDS} } }`;
  const updated = await h.gql(admin, UPDATE, { id: hook.id, i: { enabled: false, events: ['deal.won', 'deal.lost'] }, v: 1 });
  t.match(updated.body.data?.updateWebhook, { version: 2, enabled: false, events: ['deal.won', 'deal.lost'], secret: null });
  const stale = await h.gql(admin, UPDATE, { id: hook.id, i: { enabled: true }, v: 1 });
  t.equal(stale.body.errors?.[0]?.extensions.code, 'version_conflict');
  const ssrf = await h.gql(admin, UPDATE, { id: hook.id, i: { url: 'http://169.254.169.254/' } });
  t.match(ssrf.body.errors?.[0]?.extensions, { code: 'validation_failed', errors: [{ path: 'url' }] });
  const badCreate = await h.gql(admin, 'mutation { createWebhook(input: {url: "http://10.1.1.1/", events: ["*"]}) { id } }');
  t.equal(badCreate.body.errors?.[0]?.extensions.code, 'validation_failed');

  const list = await h.gql(admin, 'query { webhooks(first: 200, filter: {enabled: {eq: false}}) { edges { node { id enabled } } pageInfo { hasNextPage } } }');
  t.ok(list.body.data?.webhooks.edges.some((e: any) => e.node.id === hook.id));
  t.ok(list.body.data?.webhooks.edges.every((e: any) => e.node.enabled === false));

  t.same((await h.gql(admin, 'mutation($id: ID!) { deleteWebhook(id: $id) }', { id: hook.id })).body.data, { deleteWebhook: true });
  t.equal((await h.gql(admin, 'query($id: ID!) { webhook(id: $id) { id } }', { id: hook.id })).body.errors?.[0]?.extensions.code, 'not_found');
  const restored = await h.gql(admin, 'mutation($id: ID!) { restoreWebhook(id: $id) { id deletedAt } }', { id: hook.id });
  t.same(restored.body.data?.restoreWebhook, { id: hook.id, deletedAt: null });
  const deliveries = await h.gql(admin, 'query($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { id } } } }', { id: hook.id });
  t.same(deliveries.body.data?.webhookDeliveries.edges, []);
});
