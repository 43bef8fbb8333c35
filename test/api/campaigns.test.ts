import t from 'tap';
import { eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { startSmtp } from '../helpers/smtp.js';
import { createModules } from '../../src/app.js';
import { campaignRecipients } from '../../src/modules/marketing/campaign.table.js';
import { createCampaignSender } from '../../src/modules/marketing/campaign-sender.js';
import type { Mailer } from '../../src/modules/marketing/mailer.js';

// Campaigns sent through a real SMTP server on 127.0.0.1: the audience, personalisation, unsubscribe
// links, tracking, a crash in the middle of sending, ingested events and attributed conversions.

const smtp = await startSmtp();
const h = await startTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'http://crm.test', CAMPAIGN_SEND_RATE: '1000' } });
t.teardown(async () => { await h.close(); await smtp.close(); });
const db = h.db.database.db;
const admin = h.user('admin');
const marketer = h.user('marketing');
const { marketing } = createModules({ config: h.config, db, signAccessToken: () => '' });
const sender = marketing.services.sender;
t.teardown(() => marketing.services.mailer.close());

const post = (url: string, payload: unknown, user = marketer) => h.request({ method: 'POST', url, headers: user.auth, payload: payload as object });
const get = (url: string, user = marketer) => h.request({ method: 'GET', url, headers: user.auth });

async function contact(body: Record<string, unknown>): Promise<string> {
  const r = await post('/v1/contacts', body, admin);
  if (r.statusCode !== 201) throw new Error(r.body);
  return r.json().id;
}

const tag = `vip${Date.now()}`;
const alice = await contact({ firstName: '<b>Alice</b> & co', lastName: 'A', email: 'alice@shop.test', emailOptIn: true, tags: [tag] });
const bob = await contact({ firstName: 'Bob', email: 'bob@shop.test', emailOptIn: true, tags: [tag] });
await contact({ firstName: 'Carol', email: 'carol@shop.test', emailOptIn: false, tags: [tag] });
await contact({ firstName: 'Dan', email: 'dan@shop.test', emailOptIn: true, tags: ['other'] });
const segment = (await post('/v1/segments', { name: 'VIPs', rules: { filter: { tags: { eq: tag } } } })).json();
const LINK = 'https://shop.example/sale?a=1&b=2';
const content = `<html><body><p>Hi {{firstName}}</p><a href="https://shop.example/sale?a=1&amp;b=2">Sale</a></body></html>`;

async function newCampaign(name: string): Promise<string> {
  const r = await post('/v1/campaigns', { name, segmentId: segment.id, subject: 'Hello {{firstName}}', content });
  if (r.statusCode !== 201) throw new Error(r.body);
  return r.json().id;
}

const mailsTo = (addr: string) => smtp.received.filter((m) => m.to === addr);
/** a header as sent (mailparser turns List-* headers into objects) */
const rawHeader = (to: string, name: string) =>
  String(mailsTo(to)[0]?.mail.headerLines.find((l) => l.key === name)?.line.replace(/^[^:]+:\s*/, '') ?? '');

t.test('only opted-in members are mailed, each once, personalised and escaped, with an unsubscribe link', async (t) => {
  const id = await newCampaign('Spring');
  const sent = await post(`/v1/campaigns/${id}/send`, {});
  t.equal(sent.statusCode, 200, sent.body);
  t.equal(sent.json().status, 'sending');
  t.equal(await sender.drain(db), 2, 'two messages: Carol did not opt in, Dan is not in the segment');
  t.same(smtp.received.map((m) => m.to).sort(), ['alice@shop.test', 'bob@shop.test']);
  const [a] = mailsTo('alice@shop.test');
  const html = String(a?.mail.html);
  t.match(html, 'Hi &lt;b&gt;Alice&lt;/b&gt; &amp; co', 'the first name is HTML-escaped');
  t.notMatch(html, '<b>Alice</b>', 'no markup from contact data reaches the message');
  t.equal(a?.mail.subject, 'Hello <b>Alice</b> & co', 'the subject is plain text');
  t.match(html, /href="http:\/\/crm\.test\/t\/c\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\?u=https%3A%2F%2Fshop\.example%2Fsale%3Fa%3D1%26b%3D2"/, 'the link is tracked');
  t.match(html, /<img src="http:\/\/crm\.test\/t\/o\//, 'the open pixel');
  t.match(rawHeader('alice@shop.test', 'list-unsubscribe'), /^<http:\/\/crm\.test\/v1\/unsubscribe\?token=[^>]+>$/);
  const stats = (await get(`/v1/campaigns/${id}/stats`)).json();
  t.match(stats, { sent: 2, delivered: 2, recipients: { sent: 2, queued: 0 } });
  t.equal((await get(`/v1/campaigns/${id}`)).json().status, 'sent', 'nobody left: the campaign is sent');
  t.equal(await sender.drain(db), 0, 'a second pass mails nobody again');
  t.equal(smtp.received.length, 2);
});

t.test('tracking: opens and clicks recorded; foreign and tampered links refused', async (t) => {
  const html = String(mailsTo('bob@shop.test')[0]?.mail.html);
  const pixel = /\/t\/o\/([^"]+)"/.exec(html)?.[1] as string;
  const click = /\/t\/c\/([^"?]+)\?u=([^"]+)"/.exec(html) as RegExpExecArray;
  const open = await h.request({ method: 'GET', url: `/t/o/${pixel}` });
  t.equal(open.statusCode, 200);
  t.equal(open.headers['content-type'], 'image/gif');
  const follow = await h.request({ method: 'GET', url: `/t/c/${click[1]}?u=${click[2]}` });
  t.equal(follow.statusCode, 302);
  t.equal(follow.headers.location, LINK, 'redirected to the campaign\'s own link');
  const foreign = await h.request({ method: 'GET', url: `/t/c/${click[1]}?u=${encodeURIComponent('https://evil.example/')}` });
  t.equal(foreign.statusCode, 400, 'a link not in the campaign is refused');
  t.equal(foreign.headers.location, undefined);
  const token = click[1] as string;
  const tampered = `${token.slice(0, 3)}${token[3] === 'A' ? 'B' : 'A'}${token.slice(4)}`;
  t.equal((await h.request({ method: 'GET', url: `/t/c/${tampered}?u=${click[2]}` })).statusCode, 404, 'a tampered token is refused');
  const asOpen = await h.request({ method: 'GET', url: `/t/c/${pixel}?u=${click[2]}` });
  t.equal(asOpen.statusCode, 404, 'an open token is no click token');
  const campaignId = mailsTo('bob@shop.test')[0]?.mail.headers.get('x-crm-campaign-id') as string;
  const stats = (await get(`/v1/campaigns/${campaignId}/stats`)).json();
  t.match(stats, { opened: 1, clicked: 1 });
  const timeline = (await get(`/v1/contacts/${bob}/timeline`)).json();
  t.ok(timeline.data.some((x: { type: string; data: { type: string } }) => x.type === 'campaign_event' && x.data.type === 'clicked'), 'the click is on the contact timeline');
});

t.test('an unsubscribe link works and the next campaign honours it', async (t) => {
  const url = rawHeader('alice@shop.test', 'list-unsubscribe').slice(1, -1).replace('http://crm.test', '');
  const r = await h.request({ method: 'GET', url });
  t.equal(r.statusCode, 200, r.body);
  t.equal((await get(`/v1/contacts/${alice}`)).json().emailOptIn, false);
  await marketing.services.attribute(db);
  const spring = (await get(`/v1/campaigns?filter[name][eq]=Spring`)).json().data[0].id;
  t.equal((await get(`/v1/campaigns/${spring}/stats`)).json().unsubscribed, 1, 'the unsubscribe counts for the campaign last mailed');
  const before = smtp.received.length;
  const id = await newCampaign('Summer');
  await post(`/v1/campaigns/${id}/send`, {});
  t.equal(await sender.drain(db), 1);
  t.same(smtp.received.slice(before).map((m) => m.to), ['bob@shop.test'], 'only Bob this time');
});

t.test('a crash in the middle of sending, then a resume: everyone is mailed exactly once', async (t) => {
  const tagged = `crash${Date.now()}`;
  const people = await Promise.all(Array.from({ length: 8 }, (_, i) => contact({ firstName: `P${i}`, email: `p${i}.${tagged}@shop.test`, emailOptIn: true, tags: [tagged] })));
  const seg = (await post('/v1/segments', { name: 'crash', rules: { filter: { tags: { eq: tagged } } } })).json();
  const id = (await post('/v1/campaigns', { name: 'Crash', segmentId: seg.id, subject: 'Hi', content: '<p>Hi {{firstName}}</p>' })).json().id;
  await post(`/v1/campaigns/${id}/send`, {});
  const before = smtp.received.length;
  // the first process stops for good right after the SMTP server accepted its third message,
  // before it could write that down: its send never returns
  let accepted = 0;
  const real = marketing.services.mailer;
  const dying: Mailer = { configured: true, close: () => {}, send: async (m) => {
    const info = await real.send(m);
    if (++accepted === 3) await new Promise(() => {});
    return info;
  } };
  const first = createCampaignSender({
    mailer: dying, campaigns: marketing.services.campaigns, publicBaseUrl: 'http://crm.test', ratePerSecond: 1000,
    unsubscribeToken: () => 'x.y', trackingKey: () => Buffer.alloc(32),
  });
  void first.drain(db);
  await smtp.waitFor(before + 3);
  // a process started later (its clock past the lease) resumes
  const later = createCampaignSender({
    mailer: real, campaigns: marketing.services.campaigns, publicBaseUrl: 'http://crm.test', ratePerSecond: 1000,
    unsubscribeToken: () => 'x.y', trackingKey: () => Buffer.alloc(32), now: () => new Date(Date.now() + 10 * 60_000),
  });
  await later.drain(db);
  const got = smtp.received.slice(before).map((m) => m.to);
  t.equal(got.length, 8, 'eight messages in all');
  t.equal(new Set(got).size, 8, 'nobody twice');
  const rows = await db.select().from(campaignRecipients).where(eq(campaignRecipients.campaignId, id));
  t.equal(rows.filter((r) => r.status === 'interrupted').length, 1, 'the message in flight is marked interrupted, not resent');
  t.equal(rows.filter((r) => r.status === 'sent').length, 7);
  t.equal(people.length, 8);
});

t.test('engagement from other systems, de-duplicated; conversions follow a click', async (t) => {
  const id = (await get(`/v1/campaigns?filter[name][eq]=Spring`)).json().data[0].id;
  const events = [
    { type: 'bounced', email: 'alice@shop.test', externalId: 'esp-1' },
    { type: 'opened', contactId: alice, externalId: 'esp-2' },
  ];
  const r = await post(`/v1/campaigns/${id}/events`, { events });
  t.equal(r.statusCode, 200, r.body);
  t.same(r.json(), { recorded: 2, duplicates: 0 });
  t.same((await post(`/v1/campaigns/${id}/events`, { events })).json(), { recorded: 0, duplicates: 2 }, 'the same externalIds again');
  const bad = await post(`/v1/campaigns/${id}/events`, { events: [{ type: 'opened', email: 'nobody@shop.test' }] });
  t.equal(bad.statusCode, 422);
  t.match(bad.json().errors, [{ path: 'events.0.email' }]);
  // Bob clicked Spring above; his paid order is Spring's conversion
  const order = await post('/v1/orders', { contactId: bob, status: 'paid', total: '120.50', currency: 'SAR', externalId: `o-${Date.now()}` }, admin);
  t.equal(order.statusCode, 201, order.body);
  await marketing.services.attribute(db);
  const stats = (await get(`/v1/campaigns/${id}/stats`)).json();
  t.match(stats, { bounced: 1, delivered: 1, converted: 1, revenue: { SAR: '120.5000' } });
  await marketing.services.attribute(db);
  t.equal((await get(`/v1/campaigns/${id}/stats`)).json().converted, 1, 'attributed once');
});

t.test('GraphQL: the same campaign operations', async (t) => {
  const created = await h.gql(marketer, `mutation($s: ID) { createCampaign(input: {name: "GQL", segmentId: $s, subject: "Hi", content: "<p>x</p>"}) { id status segment { name } } }`, { s: segment.id });
  t.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const id = created.body.data?.createCampaign.id;
  t.equal(created.body.data?.createCampaign.segment.name, 'VIPs');
  const at = new Date(Date.now() + 3_600_000).toISOString();
  const scheduled = await h.gql(marketer, `mutation($id: ID!, $at: DateTime) { sendCampaign(id: $id, at: $at) { status scheduledAt } }`, { id, at });
  t.same(scheduled.body.data?.sendCampaign, { status: 'scheduled', scheduledAt: at });
  const cancelled = await h.gql(marketer, `mutation($id: ID!) { cancelCampaign(id: $id) { status stats { sent } } }`, { id });
  t.same(cancelled.body.data?.cancelCampaign, { status: 'cancelled', stats: { sent: 0 } });
  const viewer = await h.gql(h.user('viewer'), `mutation($id: ID!) { cancelCampaign(id: $id) { status } }`, { id });
  t.equal(viewer.body.errors?.[0]?.extensions.code, 'forbidden');
  const support = await h.gql(h.user('support'), `query($id: ID!) { campaign(id: $id) { id } }`, { id });
  t.equal(support.body.errors?.[0]?.extensions.code, 'forbidden');
  const ingest = await h.gql(marketer, `mutation($id: ID!, $c: ID) { recordCampaignEvents(id: $id, events: [{type: opened, contactId: $c}]) { recorded } }`, { id, c: bob });
  t.equal(ingest.body.data?.recordCampaignEvents.recorded, 1);
});

t.test('rules of sending: a sent campaign\'s message is fixed; SMS is not sent; roles', async (t) => {
  const spring = (await get(`/v1/campaigns?filter[name][eq]=Spring`)).json().data[0];
  const edit = await h.request({ method: 'PATCH', url: `/v1/campaigns/${spring.id}`, headers: marketer.auth, payload: { content: '<p>new</p>' } });
  t.equal(edit.statusCode, 409);
  t.match(edit.json().errors, [{ path: 'content' }]);
  const spend = await h.request({ method: 'PATCH', url: `/v1/campaigns/${spring.id}`, headers: marketer.auth, payload: { spend: '10.500', currency: 'KWD' } });
  t.equal(spend.statusCode, 200, 'spend may change any time');
  t.equal(spend.json().spend, '10.500');
  const sms = (await post('/v1/campaigns', { name: 'SMS', channel: 'sms', segmentId: segment.id, subject: 's', content: 'c' })).json();
  t.equal((await post(`/v1/campaigns/${sms.id}/send`, {})).statusCode, 409);
  const typo = await post('/v1/campaigns', { name: 'typo', content: '<p>{{frstName}}</p>' });
  t.equal(typo.statusCode, 400);
  t.match(typo.json().errors, [{ path: 'content', message: /frstName/ }]);
  t.equal((await post('/v1/campaigns', { name: 'x' }, h.user('sales'))).statusCode, 403);
  t.equal((await get('/v1/campaigns', h.user('sales'))).statusCode, 200);
  t.equal((await get('/v1/campaigns', h.user('support'))).statusCode, 403);
});

t.test('a merge moves the duplicate\'s campaign engagement and recipient rows to the primary', async (t) => {
  const primary = await contact({ firstName: 'Robert', email: 'robert@shop.test' });
  const moved = await post('/v1/contacts/merge', { primaryId: primary, duplicateIds: [bob] }, admin);
  t.equal(moved.statusCode, 200, moved.body);
  const rows = await db.select().from(campaignRecipients).where(eq(campaignRecipients.contactId, primary));
  t.same(rows.map((r) => r.status).sort(), ['sent', 'sent'], 'Spring and Summer, which Bob received');
  const timeline = (await get(`/v1/contacts/${primary}/timeline`)).json();
  t.ok(timeline.data.some((x: { type: string; data: { type: string } }) => x.type === 'campaign_event' && x.data.type === 'converted'), 'Bob\'s conversion is the survivor\'s');
});

t.test('a scheduled campaign starts when its time comes, in whichever process looks first', async (t) => {
  const erin = await contact({ firstName: 'Erin', email: 'erin@shop.test', emailOptIn: true, tags: [tag] });
  const id = await newCampaign('Later');
  const at = new Date(Date.now() + 3_600_000).toISOString();
  const scheduled = await post(`/v1/campaigns/${id}/send`, { at });
  t.match(scheduled.json(), { status: 'scheduled', scheduledAt: at });
  t.equal(await sender.drain(db), 0, 'not yet');
  const inAnHour = () => createCampaignSender({
    mailer: marketing.services.mailer, campaigns: marketing.services.campaigns, publicBaseUrl: 'http://crm.test', ratePerSecond: 1000,
    unsubscribeToken: () => 'x.y', trackingKey: () => Buffer.alloc(32), now: () => new Date(Date.now() + 3_700_000),
  });
  const before = smtp.received.length;
  await Promise.all([inAnHour().drain(db), inAnHour().drain(db)]);
  const c = (await get(`/v1/campaigns/${id}`)).json();
  t.match(c, { status: 'sent', startedAt: /Z$/ });
  const to = smtp.received.slice(before).map((m) => m.to);
  t.same(to, ['erin@shop.test'], 'the one opted-in live member, once (Alice unsubscribed, Bob was merged away)');
  t.ok(erin);
});
