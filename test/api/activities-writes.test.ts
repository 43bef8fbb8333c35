import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Who may write activities (resource customers, API.md §4), Idempotency-Key replays, and batches
// with partial failure and atomic mode.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const salesTeam = randomUUID();
const sales = h.user('sales', { teamIds: [salesTeam] });

const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, who: { auth: Record<string, string> }, payload?: unknown, extra: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...who.auth, ...extra }, ...(payload === undefined ? {} : { payload: payload as object }) });
const get = (id: string) => h.request({ method: 'GET', url: `/v1/activities/${id}`, headers: admin.auth });

async function create(body: Record<string, unknown>, who = admin) {
  const res = await send('POST', '/v1/activities', who, body);
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}

const countSubject = async (subject: string) =>
  (await h.request({ method: 'GET', url: '/v1/activities/count', headers: admin.auth, query: { 'filter[subject][eq]': subject } })).json().count;

t.test('viewer reads but may not write', async (t) => {
  const viewer = h.user('viewer');
  const a = await create({ type: 'note', subject: 'Viewed' });
  t.equal((await h.request({ method: 'GET', url: `/v1/activities/${a.id}`, headers: viewer.auth })).statusCode, 200);
  for (const [method, url, body] of [
    ['POST', '/v1/activities', { type: 'note', subject: 'Viewer made' }],
    ['PATCH', `/v1/activities/${a.id}`, { subject: 'Viewer changed' }],
    ['DELETE', `/v1/activities/${a.id}`, undefined],
    ['POST', `/v1/activities/${a.id}/restore`, undefined],
    ['POST', '/v1/activities/batch', { operation: 'create', records: [{ type: 'note', subject: 'Viewer made' }] }],
  ] as const) {
    const res = await send(method, url, viewer, body);
    t.equal(res.statusCode, 403, `${method} ${url}`);
    t.equal(res.json().code, 'forbidden');
  }
  t.match((await get(a.id)).json(), { subject: 'Viewed', version: 1, deletedAt: null });
  t.equal(await countSubject('Viewer made'), 0);
});

t.test('sales writes its own, its team\'s and unowned activities, not a colleague\'s', async (t) => {
  const own = await create({ type: 'task', subject: 'Sales own' }, sales);
  t.match(own, { ownerId: sales.id, teamId: salesTeam });
  t.equal((await send('PATCH', `/v1/activities/${own.id}`, sales, { completedAt: '2026-01-01T00:00:00Z' })).statusCode, 200);
  const unowned = await create({ type: 'note', ownerId: null, teamId: null });
  t.equal((await send('PATCH', `/v1/activities/${unowned.id}`, sales, { body: 'mine now?' })).statusCode, 200);
  const team = await create({ type: 'note', ownerId: randomUUID(), teamId: salesTeam });
  t.equal((await send('PATCH', `/v1/activities/${team.id}`, sales, { body: 'team' })).statusCode, 200);

  const theirs = await create({ type: 'call', subject: 'Colleague call', ownerId: randomUUID(), teamId: randomUUID() });
  t.equal((await h.request({ method: 'GET', url: `/v1/activities/${theirs.id}`, headers: sales.auth })).statusCode, 200, 'sales reads all');
  const patched = await send('PATCH', `/v1/activities/${theirs.id}`, sales, { subject: 'Stolen' });
  t.equal(patched.statusCode, 403);
  t.equal((await send('DELETE', `/v1/activities/${theirs.id}`, sales)).statusCode, 403);
  t.equal((await get(theirs.id)).json().subject, 'Colleague call');

  const assign = await send('POST', '/v1/activities', sales, { type: 'task', subject: 'For someone else', ownerId: randomUUID() });
  t.equal(assign.statusCode, 403, 'sales may not give activities to others');
  t.match(assign.json(), { code: 'forbidden', errors: [{ path: 'ownerId' }] });
  t.equal(await countSubject('For someone else'), 0);
  t.equal((await send('POST', `/v1/activities/${own.id}/restore`, sales)).statusCode, 403, 'restore is managerial');
});

t.test('Idempotency-Key: a replay answers the first response and writes once; another body is 422', async (t) => {
  const key = randomUUID();
  const body = { type: 'call', subject: 'Idem call' };
  const first = await send('POST', '/v1/activities', admin, body, { 'idempotency-key': key });
  const second = await send('POST', '/v1/activities', admin, body, { 'idempotency-key': key });
  t.equal(first.statusCode, 201);
  t.equal(second.statusCode, 201);
  t.equal(second.body, first.body);
  t.equal(second.headers['idempotent-replayed'], 'true');
  t.equal(await countSubject('Idem call'), 1);
  const other = await send('POST', '/v1/activities', admin, { type: 'call', subject: 'Idem other' }, { 'idempotency-key': key });
  t.equal(other.statusCode, 422);
  t.equal(other.json().code, 'idempotency_key_reused');
  t.equal(await countSubject('Idem other'), 0);
});

t.test('batch: valid records commit, bad ones fail alone with their own error', async (t) => {
  const existing = await create({ type: 'task', subject: 'Batch target', dueAt: '2030-01-01T00:00:00Z' });
  const doomed = await create({ type: 'note', subject: 'Batch doomed' });
  const created = await send('POST', '/v1/activities/batch', admin, {
    operation: 'create',
    records: [
      { type: 'call', subject: 'Batch A' },
      { type: 'call', subject: 'Batch B', dueAt: '2030-01-01T00:00:00Z' },
      { type: 'note', subject: 'Batch C', contactId: randomUUID() },
      { type: 'email', subject: 'Batch D', version: 2 },
    ],
  });
  t.equal(created.statusCode, 200);
  const r = created.json().results;
  t.match(r, [
    { index: 0, status: 'created' },
    { index: 1, status: 'error', id: null, error: { code: 'validation_failed', errors: [{ path: 'dueAt' }] } },
    { index: 2, status: 'error', error: { code: 'invalid_reference', status: 422 } },
    { index: 3, status: 'error', error: { code: 'validation_failed', errors: [{ path: 'version', message: /read-only/ }] } },
  ]);
  t.match((await get(r[0].id)).json(), { subject: 'Batch A' });
  t.equal(await countSubject('Batch B') + await countSubject('Batch C') + await countSubject('Batch D'), 0);

  const mixed = await send('POST', '/v1/activities/batch', admin, {
    operation: 'update',
    records: [{ id: existing.id, completedAt: '2029-12-31T00:00:00Z' }, { id: randomUUID(), subject: 'x' }, { subject: 'no id' }],
  });
  t.match(mixed.json().results, [
    { index: 0, status: 'updated', id: existing.id },
    { index: 1, status: 'error', error: { code: 'not_found' } },
    { index: 2, status: 'error', error: { code: 'validation_failed', errors: [{ path: 'id' }] } },
  ]);
  t.equal((await get(existing.id)).json().completedAt, '2029-12-31T00:00:00.000Z');

  const atomic = await send('POST', '/v1/activities/batch', admin, {
    operation: 'delete', atomic: true, records: [{ id: doomed.id }, { id: randomUUID() }],
  });
  t.equal(atomic.statusCode, 404, 'atomic: the first failure fails the call');
  t.equal((await get(doomed.id)).json().deletedAt, null, 'and nothing was deleted');
  const deleted = await send('POST', '/v1/activities/batch', admin, { operation: 'delete', records: [{ id: doomed.id }] });
  t.match(deleted.json().results, [{ status: 'deleted', id: doomed.id }]);

  const upsert = await send('POST', '/v1/activities/batch', admin, { operation: 'upsert', records: [{ type: 'note' }] });
  t.equal(upsert.statusCode, 400, 'no upsert: activities have no natural key');
});
