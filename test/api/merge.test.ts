import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { queryRows } from '../../src/platform/db/execute.js';

// Merge (API.md §5, §5b): one transaction moves every link to the primary, fills its empty fields,
// deletes the duplicates with mergedIntoId, audits, emits contact.merged; merged ids answer 404 with
// mergedIntoId. Contacts and companies over REST (GraphQL in merge-graphql.test.ts).

const h = await startTestApp({ env: { DEFAULT_PHONE_REGION: 'SA' } });
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const viewer = h.user('viewer');
const teamA = randomUUID();
const sales = h.user('sales', { teamIds: [teamA] });
const uniq = () => randomUUID().slice(0, 8);
type Who = { auth: Record<string, string> };

const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, who: Who = admin, query: Record<string, string> = {}) =>
  h.request({ method, url, headers: who.auth, query, ...(payload === undefined ? {} : { payload: payload as object }) });
async function created(url: string, body: Record<string, unknown>, who: Who = admin) {
  const res = await send('POST', url, body, who);
  if (res.statusCode !== 201) throw new Error(`POST ${url} failed: ${res.statusCode} ${res.body}`);
  return res.json();
}
const mergeContacts = (body: unknown, who: Who = admin) => send('POST', '/v1/contacts/merge', body, who);
const rows = async <T = Record<string, unknown>>(q: ReturnType<typeof sql>) => (await queryRows<T>(db, q)).rows;
const list = (ids: string[]) => sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);

const pipeline = await created('/v1/pipelines', { name: 'Sales', stages: [{ name: 'Open', probability: 10 }] });
const stageId = pipeline.stages[0].id as string;
await created('/v1/custom-fields', { entity: 'contact', key: 'tier', label: 'Tier', type: 'text' });
await created('/v1/custom-fields', { entity: 'contact', key: 'region', label: 'Region', type: 'text' });

/** every link of the contacts, by kind: what a merge must keep, only moved */
async function linksOf(ids: string[]) {
  const n = async (q: ReturnType<typeof sql>) => Number((await rows<{ n: number }>(q))[0]?.n);
  return {
    activities: await n(sql`SELECT count(*)::int AS n FROM activities WHERE contact_id IN (${list(ids)})`),
    orders: await n(sql`SELECT count(*)::int AS n FROM orders WHERE contact_id IN (${list(ids)})`),
    orderLines: await n(sql`SELECT count(*)::int AS n FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.contact_id IN (${list(ids)})`),
    loyaltyTransactions: await n(sql`SELECT count(*)::int AS n FROM loyalty_transactions WHERE contact_id IN (${list(ids)})`),
    loyaltyBalance: await n(sql`SELECT coalesce(sum(balance), 0)::int AS n FROM loyalty_balances WHERE contact_id IN (${list(ids)})`),
    feedback: await n(sql`SELECT count(*)::int AS n FROM feedback WHERE contact_id IN (${list(ids)})`),
    deals: await n(sql`SELECT count(DISTINCT deal_id)::int AS n FROM deal_contacts WHERE contact_id IN (${list(ids)})`),
    leads: await n(sql`SELECT count(*)::int AS n FROM leads WHERE converted_contact_id IN (${list(ids)})`),
    externalIds: await n(sql`SELECT count(*)::int AS n FROM external_ids WHERE entity_type = 'contact' AND entity_id IN (${list(ids)})`),
    tickets: await n(sql`SELECT count(*)::int AS n FROM tickets WHERE requester_id IN (${list(ids)})`),
    campaignEvents: await n(sql`SELECT count(*)::int AS n FROM campaign_events WHERE contact_id IN (${list(ids)})`),
  };
}

t.test('acceptance: a merge moves ten kinds of links and loses none', async (t) => {
  const u = uniq();
  const p = await created('/v1/contacts', { firstName: 'Sara', email: `sara.${u}@example.com`, tags: ['vip'], externalIds: { shopify: `P${u}` }, custom: { tier: 'gold' } });
  const d1 = await created('/v1/contacts', {
    firstName: 'Sarah', lastName: 'Nasser', email: `sarah.n.${u}@example.com`, phone: '0551112222', jobTitle: 'CTO', tags: ['b2b'],
    externalIds: { shopify: `D${u}`, hubspot: `H${u}` }, custom: { tier: 'silver', region: 'west' },
  });
  const d2 = await created('/v1/contacts', { lastName: 'N.', email: `s.nasser.${u}@example.com`, additionalPhones: ['+966553334444'], tags: ['vip', 'newsletter'], externalIds: { zendesk: `Z${u}` } });
  const all = [p.id, d1.id, d2.id];

  for (const [contactId, n] of [[p.id, 1], [d1.id, 2], [d2.id, 1]] as const) {
    for (let i = 0; i < n; i++) await created('/v1/activities', { type: 'note', subject: `note ${i}`, contactId });
  }
  const order1 = await created('/v1/orders', {
    contactId: d1.id, total: '30.00', currency: 'USD',
    lines: [{ sku: 'A', name: 'Thing', quantity: 2, unitPrice: '10.00' }, { name: 'Other', quantity: 1, unitPrice: '10.00' }],
  });
  await created('/v1/orders', { contactId: d2.id, total: '5.00', currency: 'USD', lines: [{ name: 'Small', quantity: 1, unitPrice: '5.00' }] });
  await created(`/v1/contacts/${p.id}/loyalty/transactions`, { points: 10, reason: 'welcome' });
  await created(`/v1/contacts/${d1.id}/loyalty/transactions`, { points: 100, reason: 'welcome' });
  await created(`/v1/contacts/${d1.id}/loyalty/transactions`, { points: -30, reason: 'redeemed' });
  await created(`/v1/contacts/${d2.id}/loyalty/transactions`, { points: 50, reason: 'welcome' });
  await created('/v1/feedback', { type: 'nps', score: 9, contactId: d1.id });
  await created('/v1/feedback', { type: 'csat', score: 4, contactId: d2.id, comment: 'ok' });
  const both = await created('/v1/deals', { name: `Both ${u}`, pipelineId: pipeline.id, stageId, contactIds: [p.id, d1.id] });
  const dups = await created('/v1/deals', { name: `Dups ${u}`, pipelineId: pipeline.id, stageId, contactIds: [d1.id, d2.id] });
  await created('/v1/deals', { name: `D2 ${u}`, pipelineId: pipeline.id, stageId, contactIds: [d2.id] });
  const lead = await created('/v1/leads', { firstName: 'S', email: `s.nasser.${u}@example.com` });
  const conversion = (await send('POST', `/v1/leads/${lead.id}/convert`, { pipelineId: pipeline.id })).json();
  t.equal(conversion.contact.id, d2.id, 'the lead converted into the second duplicate (same email)');

  await created('/v1/tickets', { subject: `Help ${u}`, requesterId: d1.id });
  const campaign = await created('/v1/campaigns', { name: `Ads ${u}`, channel: 'ads' });
  const engaged = await send('POST', `/v1/campaigns/${campaign.id}/events`, { events: [{ type: 'clicked', contactId: d2.id }, { type: 'opened', contactId: d1.id }] });
  t.equal(engaged.statusCode, 200, engaged.body);

  const before = await linksOf(all);
  t.same(before, {
    activities: 4, orders: 2, orderLines: 3, loyaltyTransactions: 4, loyaltyBalance: 130, feedback: 2, deals: 4, leads: 1, externalIds: 4,
    tickets: 1, campaignEvents: 2,
  });

  const res = await mergeContacts({ primaryId: p.id, duplicateIds: [d1.id, d2.id] });
  t.equal(res.statusCode, 200, res.body);
  const merged = res.json();
  t.equal(res.headers.etag, `"${merged.version}"`);
  t.match(merged, {
    id: p.id, version: 2, firstName: 'Sara', lastName: 'Nasser', email: `sara.${u}@example.com`, phone: '+966551112222', jobTitle: 'CTO',
    custom: { tier: 'gold', region: 'west' },
  }, 'own values kept, empty fields filled from the duplicates in order');
  t.same(merged.additionalEmails, [`sarah.n.${u}@example.com`, `s.nasser.${u}@example.com`], "the duplicates' emails are kept as additional ones");
  t.same(merged.additionalPhones, ['+966553334444']);
  t.same(merged.tags, ['vip', 'b2b', 'newsletter'], 'tags unioned');
  t.same(merged.externalIds, { shopify: `P${u}`, hubspot: `H${u}`, zendesk: `Z${u}` }, "the primary's shopify id wins");

  const after = await linksOf([p.id]);
  t.same({ ...after, externalIds: after.externalIds + 1 }, before, 'every link is on the primary; only the clashing external id is dropped');
  t.same(await linksOf([d1.id, d2.id]), {
    activities: 0, orders: 0, orderLines: 0, loyaltyTransactions: 0, loyaltyBalance: 0, feedback: 0, deals: 0, leads: 0, externalIds: 0, tickets: 0, campaignEvents: 0,
  });

  const order = (await send('GET', `/v1/orders/${order1.id}`)).json();
  t.equal(order.contactId, p.id);
  t.equal(order.lines.length, 2, 'order lines stay with their order');
  const loyalty = (await send('GET', `/v1/contacts/${p.id}/loyalty`)).json();
  t.equal(loyalty.balance, 130, 'balances added up');
  t.equal(loyalty.transactions.data.length, 4, 'the ledger moved whole');
  t.same((await send('GET', `/v1/deals/${both.id}`)).json().contactIds, [p.id], 'a deal linked to both keeps one link');
  t.same((await send('GET', `/v1/deals/${dups.id}`)).json().contactIds, [p.id]);
  t.equal((await send('GET', `/v1/leads/${lead.id}`)).json().convertedContactId, p.id);

  for (const d of [d1, d2]) {
    const gone = await send('GET', `/v1/contacts/${d.id}`);
    t.equal(gone.statusCode, 404);
    t.match(gone.json(), { code: 'not_found', mergedIntoId: p.id }, 'a merged id still resolves');
    t.match((await send('PATCH', `/v1/contacts/${d.id}`, { jobTitle: 'x' })).json(), { status: 404, mergedIntoId: p.id });
    t.match((await send('GET', `/v1/contacts/${d.id}`, undefined, admin, { includeDeleted: 'true' })).json(), { id: d.id, deletedAt: String });
  }
  const restore = await send('POST', `/v1/contacts/${d1.id}/restore`);
  t.equal(restore.statusCode, 409, 'a merge is not undone by a restore');
  t.match(restore.json(), { code: 'conflict', mergedIntoId: p.id });

  const [event] = await rows<{ data: { after: Record<string, unknown> } }>(sql`SELECT data FROM events WHERE type = 'contact.merged' AND entity_id = ${p.id}`);
  t.same(event?.data.after, {
    primaryId: p.id, duplicateIds: [d1.id, d2.id],
    moved: { activities: 3, orders: 2, feedback: 2, loyaltyTransactions: 3, loyaltyPoints: 120, dealContacts: 4, leads: 1, externalIds: 2, customValues: 1, tags: 2, tickets: 1, ticketComments: 0, campaignEvents: 2, campaignRecipients: 0 },
  }, 'contact.merged says what moved');
  const audit = await rows<{ action: string; entity_type: string; entity_id: string; after: Record<string, unknown> }>(sql`
    SELECT action, entity_type, entity_id, after FROM audit_logs WHERE request_id = (SELECT request_id FROM events WHERE type = 'contact.merged' AND entity_id = ${p.id})`);
  const count = (action: string, type: string) => audit.filter((a) => a.action === action && a.entity_type === type).length;
  t.equal(count('merge', 'contact'), 1);
  t.same(audit.find((a) => a.action === 'merge')?.after.externalIdConflicts, [{ system: 'shopify', kept: `P${u}`, dropped: `D${u}`, from: d1.id }], 'the dropped external id is on record');
  t.equal(count('delete', 'contact'), 2);
  t.ok(audit.filter((a) => a.action === 'delete').every((a) => a.after.mergedIntoId === p.id), 'each deletion names the survivor');
  t.equal(count('update', 'contact'), 1, "the primary's update");
  t.same([count('update', 'activity'), count('update', 'order'), count('update', 'feedback'), count('update', 'loyalty_transaction'), count('update', 'deal'), count('update', 'lead')],
    [3, 2, 2, 3, 4, 1], 'every moved row is audited as an update of its record');
  const pairs = await rows(sql`SELECT 1 FROM duplicate_candidates WHERE a_id IN (${list([d1.id, d2.id])}) OR b_id IN (${list([d1.id, d2.id])})`);
  t.equal(pairs.length, 0, 'merged contacts have no duplicate candidates');
});

t.test('refusals: validation, roles, scope, missing, merged, deleted, itself', async (t) => {
  const u = uniq();
  const a = await created('/v1/contacts', { firstName: `A${u}` });
  const b = await created('/v1/contacts', { firstName: `B${u}` });
  for (const [body, path] of [
    [{ primaryId: a.id, duplicateIds: [b.id], extra: 1 }, 'extra'],
    [{ primaryId: a.id }, 'duplicateIds'],
    [{ primaryId: a.id, duplicateIds: [] }, 'duplicateIds'],
    [{ primaryId: a.id, duplicateIds: Array.from({ length: 11 }, () => randomUUID()) }, 'duplicateIds'],
    [{ primaryId: a.id, duplicateIds: [b.id, b.id] }, 'duplicateIds'],
    [{ primaryId: 'nope', duplicateIds: [b.id] }, 'primaryId'],
  ] as const) {
    const res = await mergeContacts(body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.match(res.json(), { code: 'validation_failed', errors: [{ path: new RegExp(`^${path}`) }] });
  }
  const self = await mergeContacts({ primaryId: a.id, duplicateIds: [a.id] });
  t.equal(self.statusCode, 409);
  t.match(self.json(), { code: 'conflict', detail: /into itself/ });
  t.equal((await mergeContacts({ primaryId: a.id, duplicateIds: [randomUUID()] })).statusCode, 404);
  t.equal((await mergeContacts({ primaryId: a.id, duplicateIds: [b.id] }, viewer)).statusCode, 403, 'viewer may not write customers');

  // sales writes only contacts of their own, their teams' or nobody's
  const mine = await created('/v1/contacts', { firstName: `Mine${u}` }, sales);
  const theirs = await created('/v1/contacts', { firstName: `Theirs${u}` });
  const refused = await mergeContacts({ primaryId: mine.id, duplicateIds: [theirs.id] }, sales);
  t.equal(refused.statusCode, 403, 'a record out of the write scope');
  t.equal((await send('GET', `/v1/contacts/${theirs.id}`)).statusCode, 200, 'nothing was merged');
  const own = await created('/v1/contacts', { firstName: `Own${u}` }, sales);
  t.equal((await mergeContacts({ primaryId: mine.id, duplicateIds: [own.id] }, sales)).statusCode, 200, 'in scope it works');

  t.equal((await mergeContacts({ primaryId: a.id, duplicateIds: [b.id] })).statusCode, 200);
  const again = await mergeContacts({ primaryId: a.id, duplicateIds: [b.id] });
  t.equal(again.statusCode, 409);
  t.match(again.json(), { code: 'conflict', mergedIntoId: a.id, detail: /already merged/ });
  const intoMerged = await mergeContacts({ primaryId: b.id, duplicateIds: [a.id] });
  t.equal(intoMerged.statusCode, 409, 'nor into a merged record');
  const c = await created('/v1/contacts', { firstName: `C${u}` });
  t.equal((await send('DELETE', `/v1/contacts/${c.id}`)).statusCode, 204);
  const deleted = await mergeContacts({ primaryId: a.id, duplicateIds: [c.id] });
  t.equal(deleted.statusCode, 409);
  t.match(deleted.json(), { detail: /deleted/ });
});

t.test('two concurrent merges of the same records: one wins, nothing is lost', async (t) => {
  for (let round = 0; round < 3; round++) {
    const u = uniq();
    const a = await created('/v1/contacts', { firstName: `Race${u}`, email: `a.${u}@example.com` });
    const b = await created('/v1/contacts', { firstName: `Race${u}`, email: `b.${u}@example.com` });
    await created('/v1/activities', { type: 'call', contactId: a.id });
    await created('/v1/activities', { type: 'call', contactId: b.id });
    const results = await Promise.all([mergeContacts({ primaryId: a.id, duplicateIds: [b.id] }), mergeContacts({ primaryId: b.id, duplicateIds: [a.id] })]);
    t.same(results.map((r) => r.statusCode).sort(), [200, 409], 'exactly one merge succeeds');
    const winner = results.find((r) => r.statusCode === 200)!.json();
    t.equal((await linksOf([winner.id])).activities, 2, 'both activities on the survivor');
    t.same(winner.additionalEmails.length, 1, "the loser's email kept");
  }
});

t.test('companies: contacts, activities, deals and converted leads move; fields fill', async (t) => {
  const u = uniq();
  const p = await created('/v1/companies', { name: `Acme ${u}`, tags: ['key'] });
  const d = await created('/v1/companies', {
    name: `ACME ${u} Ltd`, domain: `acme-${u}.example`, industry: 'retail', annualRevenue: '1000.50', currency: 'USD', tags: ['retail'], externalIds: { erp: `E${u}` },
  });
  const people = [await created('/v1/contacts', { firstName: 'One', companyId: d.id }), await created('/v1/contacts', { firstName: 'Two', companyId: d.id })];
  await created('/v1/activities', { type: 'meeting', companyId: d.id });
  const deal = await created('/v1/deals', { name: `Acme deal ${u}`, pipelineId: pipeline.id, stageId, companyId: d.id });
  const lead = await created('/v1/leads', { firstName: 'L', companyName: 'Acme', companyDomain: `acme-${u}.example` });
  const conv = (await send('POST', `/v1/leads/${lead.id}/convert`, { pipelineId: pipeline.id })).json();
  t.equal(conv.company.id, d.id);

  const res = await send('POST', '/v1/companies/merge', { primaryId: p.id, duplicateIds: [d.id] });
  t.equal(res.statusCode, 200, res.body);
  t.match(res.json(), { id: p.id, name: `Acme ${u}`, domain: `acme-${u}.example`, industry: 'retail', annualRevenue: '1000.50', currency: 'USD', tags: ['key', 'retail'], externalIds: { erp: `E${u}` } });
  for (const c of people) t.equal((await send('GET', `/v1/contacts/${c.id}`)).json().companyId, p.id);
  const n = async (q: ReturnType<typeof sql>) => Number((await rows<{ n: number }>(q))[0]?.n);
  t.equal(await n(sql`SELECT count(*)::int AS n FROM activities WHERE company_id = ${p.id}`), 1);
  t.equal(await n(sql`SELECT count(*)::int AS n FROM activities WHERE company_id = ${d.id}`), 0);
  t.equal((await send('GET', `/v1/deals/${deal.id}`)).json().companyId, p.id);
  t.equal((await send('GET', `/v1/deals/${conv.deal.id}`)).json().companyId, p.id);
  t.equal((await send('GET', `/v1/leads/${lead.id}`)).json().convertedCompanyId, p.id);
  const gone = await send('GET', `/v1/companies/${d.id}`);
  t.equal(gone.statusCode, 404);
  t.equal(gone.json().mergedIntoId, p.id);
  const [event] = await rows<{ data: { after: { moved: Record<string, number> } } }>(sql`SELECT data FROM events WHERE type = 'company.merged' AND entity_id = ${p.id}`);
  t.same(event?.data.after.moved, { contacts: 3, activities: 1, deals: 2, leads: 1, externalIds: 1, customValues: 0, tags: 1 }, 'the converted contact moved too');
  t.equal((await send('POST', '/v1/companies/merge', { primaryId: p.id, duplicateIds: [d.id] }, viewer)).statusCode, 403);
  t.equal((await send('POST', '/v1/companies/merge', { primaryId: p.id, duplicateIds: [d.id] })).statusCode, 409);
});
