import { randomUUID } from 'node:crypto';
import t from 'tap';
import { and, asc, eq } from 'drizzle-orm';
import { TEST_JWT_SECRET, startTestApp } from '../helpers/app.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import { events } from '../../src/platform/events/event.table.js';
import { createConsentService } from '../../src/modules/customer/consent.service.js';
import { signUnsubscribeToken, unsubscribeKey } from '../../src/modules/customer/consent-token.js';

// Consent (API.md §5): emailOptIn / smsOptIn with the time each last changed, through every door of
// a contact write; every change audited; signed unsubscribe links answered without authentication.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const marketing = h.user('marketing');

type Who = ReturnType<typeof h.user>;
const req = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, who: Who = admin) =>
  h.request({ method, url, headers: who.auth, ...(payload === undefined ? {} : { payload: payload as object }) });
const get = async (id: string) => (await req('GET', `/v1/contacts/${id}`)).json();
const auditOf = (id: string) => db.select().from(auditLogs).where(eq(auditLogs.entityId, id)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id));
const pause = () => new Promise((r) => setTimeout(r, 5));

// The app's consent service signs with the JWT secret, as this one does: its exported unsubscribeToken builds the links.
const consent = createConsentService({ db, contacts: { patchIn: () => Promise.reject(new Error('unused')) }, secret: () => TEST_JWT_SECRET });
const link = (id: string, channel: 'email' | 'sms') => consent.unsubscribeToken(id, channel);

async function contact(body: Record<string, unknown>) {
  const res = await req('POST', '/v1/contacts', body);
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json();
}

t.test('opt-in times: set when a flag is given on create, moved only when the flag changes', async (t) => {
  const before = Date.now();
  const c = await contact({ firstName: 'Consent', email: 'consent@example.com', emailOptIn: true, consentSource: 'web_form' });
  t.ok(Date.parse(c.emailOptInAt) >= before - 1000, 'emailOptInAt set on create');
  t.equal(c.smsOptInAt, null, 'smsOptIn not given: no time');
  t.equal(c.smsOptIn, false);

  await pause();
  const other = await req('PATCH', `/v1/contacts/${c.id}`, { jobTitle: 'CTO', emailOptIn: true });
  t.equal(other.json().emailOptInAt, c.emailOptInAt, 'a PATCH of another field (and the same flag value) keeps the time');
  t.equal(other.json().version, 2);

  await pause();
  const off = (await req('PATCH', `/v1/contacts/${c.id}`, { emailOptIn: false, smsOptIn: true })).json();
  t.ok(Date.parse(off.emailOptInAt) > Date.parse(c.emailOptInAt), 'emailOptIn changed: new time');
  t.not(off.smsOptInAt, null, 'smsOptIn changed: its time set');
  t.same(await get(c.id), off, 'GET shows the stored times');

  const plain = await contact({ firstName: 'No Consent' });
  t.match(plain, { emailOptIn: false, smsOptIn: false, emailOptInAt: null, smsOptInAt: null });
});

t.test('opt-in times: batch upsert and GraphQL set them too; the times are read-only', async (t) => {
  const batch = await req('POST', '/v1/contacts/batch', {
    operation: 'upsert', idProperty: 'email', records: [{ email: 'batch-consent@example.com', smsOptIn: true }],
  });
  const id = batch.json().results[0].id;
  const made = await get(id);
  t.not(made.smsOptInAt, null, 'batch create');
  t.equal(made.emailOptInAt, null);
  await pause();
  await req('POST', '/v1/contacts/batch', { operation: 'upsert', idProperty: 'email', records: [{ email: 'batch-consent@example.com', smsOptIn: false }] });
  t.ok(Date.parse((await get(id)).smsOptInAt) > Date.parse(made.smsOptInAt), 'batch update');

  const q = 'mutation($id: ID!, $input: ContactPatchInput!) { updateContact(id: $id, input: $input) { emailOptIn emailOptInAt smsOptInAt } }';
  const g = await h.gql(admin, q, { id, input: { emailOptIn: true } });
  t.same(g.body.errors, undefined);
  t.match(g.body.data?.updateContact, { emailOptIn: true, emailOptInAt: String });
  t.equal(g.body.data?.updateContact.smsOptInAt, (await get(id)).smsOptInAt, 'GraphQL shows the same times as REST');

  for (const field of ['emailOptInAt', 'smsOptInAt']) {
    const res = await req('PATCH', `/v1/contacts/${id}`, { [field]: '2020-01-01T00:00:00.000Z' });
    t.equal(res.statusCode, 400, `${field} refused in a PATCH`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path: field, message: 'is read-only' }] });
    t.equal((await req('POST', '/v1/contacts', { firstName: 'X', [field]: '2020-01-01T00:00:00.000Z' })).statusCode, 400, `${field} refused on create`);
  }
  const gqlRefused = await h.gql(admin, q, { id, input: { emailOptInAt: '2020-01-01T00:00:00.000Z' } });
  t.equal(gqlRefused.body.errors?.[0]?.extensions.code, 'validation_failed', 'not in the GraphQL input');
});

t.test('every opt-in change is audited: the row shows the flag and its time before and after', async (t) => {
  const c = await contact({ firstName: 'Audit', emailOptIn: true });
  await req('PATCH', `/v1/contacts/${c.id}`, { emailOptIn: false, consentSource: 'phone_call' }, marketing);
  const rows = await auditOf(c.id);
  t.same(rows.map((r) => r.action), ['create', 'update']);
  t.match(rows[1], { actorType: 'user', actorId: marketing.id, before: { emailOptIn: true, consentSource: null }, after: { emailOptIn: false, consentSource: 'phone_call' } });
  t.equal((rows[1]!.before as Record<string, unknown>).emailOptInAt, c.emailOptInAt);
  t.not((rows[1]!.after as Record<string, unknown>).emailOptInAt, c.emailOptInAt);
  t.notOk('smsOptIn' in (rows[1]!.after as object), 'an unchanged flag is not in the diff');
});

t.test('unsubscribe link: no auth; opts out, audited as the system, contact.updated + contact.unsubscribed', async (t) => {
  const c = await contact({ firstName: 'Leaver', email: 'leaver@example.com', emailOptIn: true, smsOptIn: true, consentSource: 'checkout' });
  const token = link(c.id, 'email');
  t.equal(token, signUnsubscribeToken(unsubscribeKey(TEST_JWT_SECRET), c.id, 'email'));
  t.ok(token.length < 80, 'short enough for a link');

  const res = await h.request({ method: 'GET', url: `/v1/unsubscribe?token=${encodeURIComponent(token)}`, headers: { 'x-request-id': 'unsub-1' } });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { unsubscribed: true, channel: 'email' });
  const after = await get(c.id);
  t.match(after, { emailOptIn: false, smsOptIn: true, consentSource: 'unsubscribe_link', version: 2 });
  t.ok(Date.parse(after.emailOptInAt) > Date.parse(c.emailOptInAt), 'the time moved');
  t.equal(after.smsOptInAt, c.smsOptInAt, 'the other channel is untouched');

  const rows = await auditOf(c.id);
  t.match(rows[1], {
    action: 'update', actorType: 'system', actorId: 'system', requestId: 'unsub-1',
    before: { emailOptIn: true, consentSource: 'checkout' }, after: { emailOptIn: false, consentSource: 'unsubscribe_link' },
  });
  const evs = await db.select().from(events).where(and(eq(events.entityId, c.id), eq(events.requestId, 'unsub-1'))).orderBy(asc(events.id));
  t.same(evs.map((e) => e.type).sort(), ['contact.unsubscribed', 'contact.updated']);
  t.match(evs.find((e) => e.type === 'contact.unsubscribed'), { actorType: 'system', data: { before: { emailOptIn: true }, after: { emailOptIn: false } } });

  const again = await h.request({ method: 'GET', url: `/v1/unsubscribe?token=${token}` });
  t.same(again.json(), { unsubscribed: true, channel: 'email' }, 'twice is fine');
  t.equal((await get(c.id)).version, 2, 'and writes nothing');
  t.equal((await auditOf(c.id)).length, 2);

  const sms = await h.request({ method: 'POST', url: '/v1/unsubscribe', payload: { token: link(c.id, 'sms') } });
  t.same(sms.json(), { unsubscribed: true, channel: 'sms' }, 'POST for one-click clients');
  t.match(await get(c.id), { smsOptIn: false, emailOptIn: false, version: 3 });

  const g = await h.gql(undefined, 'mutation($t: String!) { unsubscribe(token: $t) { unsubscribed channel } }', { t: link(c.id, 'sms') });
  t.same(g.body, { data: { unsubscribe: { unsubscribed: true, channel: 'sms' } } }, 'GraphQL, anonymously');
});

t.test('unsubscribe link: tampered, foreign-key, malformed or missing tokens are 400', async (t) => {
  const c = await contact({ firstName: 'Stayer', emailOptIn: true });
  const token = link(c.id, 'email');
  const [payload, mac] = token.split('.') as [string, string];
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const otherId = link(randomUUID(), 'email').split('.')[0] as string;
  const bad = [
    `${flip(payload, 3)}.${mac}`, `${payload}.${flip(mac, 5)}`, `${otherId}.${mac}`, `${payload}.${mac}A`, `${payload}.${mac}.x`,
    signUnsubscribeToken(unsubscribeKey('another-secret-that-is-long-enough-012345'), c.id, 'email'), 'garbage', `${payload}`,
  ];
  for (const b of bad) {
    const res = await h.request({ method: 'GET', url: `/v1/unsubscribe?token=${encodeURIComponent(b)}` });
    t.equal(res.statusCode, 400, `refused: ${b}`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ path: 'token' }] });
  }
  t.match((await h.request({ method: 'GET', url: '/v1/unsubscribe' })).json(), { code: 'validation_failed', errors: [{ path: 'token' }] });
  t.equal((await h.request({ method: 'POST', url: '/v1/unsubscribe', payload: { token, extra: 1 } })).statusCode, 400);
  const g = await h.gql(undefined, 'mutation { unsubscribe(token: "garbage") { unsubscribed } }');
  t.equal(g.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.match(await get(c.id), { emailOptIn: true, version: 1 }, 'nothing changed');
  t.equal((await h.request({ method: 'GET', url: '/v1/unsubscribe?token=x', headers: { authorization: 'Bearer nope' } })).statusCode, 400,
    'the endpoint ignores credentials entirely, even bad ones');
});

t.test('unsubscribe link of a deleted contact answers the same and writes nothing', async (t) => {
  const c = await contact({ firstName: 'Deleted', emailOptIn: true });
  await h.request({ method: 'DELETE', url: `/v1/contacts/${c.id}`, headers: admin.auth });
  const res = await h.request({ method: 'GET', url: `/v1/unsubscribe?token=${link(c.id, 'email')}` });
  t.same(res.json(), { unsubscribed: true, channel: 'email' });
  t.same((await auditOf(c.id)).map((r) => r.action), ['create', 'delete']);
});
