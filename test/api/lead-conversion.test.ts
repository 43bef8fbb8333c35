import { randomUUID } from 'node:crypto';
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { events } from '../../src/platform/events/event.table.js';

// Lead conversion (API.md §5): contact, company, deal, relinked activities and the converted lead in
// one transaction; reuse of the contact by email and the company by domain; 409 the second time,
// also when two conversions race; any failure leaves nothing behind. REST and GraphQL.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const teamA = randomUUID();
const salesA = h.user('sales', { teamIds: [teamA] });
const salesB = h.user('sales', { teamIds: [randomUUID()] });

type Who = { auth: Record<string, string> };
const send = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, who: Who = admin, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...who.auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
async function created(url: string, body: Record<string, unknown>, who: Who = admin) {
  const res = await send('POST', url, body, who);
  if (res.statusCode !== 201) throw new Error(`POST ${url} failed: ${res.body}`);
  return res.json();
}
const convert = (id: string, body: Record<string, unknown> = {}, who: Who = admin, headers: Record<string, string> = {}) =>
  send('POST', `/v1/leads/${id}/convert`, body, who, headers);
const countOf = async (url: string, query: Record<string, string>) =>
  (await h.request({ method: 'GET', url, headers: admin.auth, query })).json().count as number;
const uniq = () => randomUUID().slice(0, 8);

// the default pipeline: a won stage sits first by position, so "first open stage" must skip it
const pipeline = await created('/v1/pipelines', {
  name: 'Sales', isDefault: true,
  stages: [{ name: 'Won', probability: 100, kind: 'won' }, { name: 'Qualify', probability: 20 }, { name: 'Propose', probability: 50 }],
});
const qualify = pipeline.stages.find((s: { name: string }) => s.name === 'Qualify');
const wonOnly = await created('/v1/pipelines', { name: 'Closed only', stages: [{ name: 'Done', probability: 100, kind: 'won' }] });

t.test('convert makes contact, company and deal, moves the lead\'s activities and marks the lead', async (t) => {
  const u = uniq();
  const lead = await created('/v1/leads', {
    firstName: 'Nora', lastName: 'Aziz', email: `nora.${u}@example.com`, phone: '+966501112233', source: 'webinar',
    companyName: `Aziz ${u} LLC`, companyDomain: `aziz-${u}.example`,
  });
  const call = await created('/v1/activities', { type: 'call', subject: 'Intro', leadId: lead.id });
  const res = await convert(lead.id, { amount: '1200.50', currency: 'USD' }, admin, { 'x-request-id': `conv-${u}` });
  t.equal(res.statusCode, 200);
  const { lead: after, contact, company, deal } = res.json();
  t.match(company, { name: `Aziz ${u} LLC`, domain: `aziz-${u}.example` });
  t.match(contact, { firstName: 'Nora', lastName: 'Aziz', email: `nora.${u}@example.com`, phone: '+966501112233', source: 'webinar', companyId: company.id, ownerId: admin.id });
  t.match(deal, {
    name: `Aziz ${u} LLC deal`, pipelineId: pipeline.id, stageId: qualify.id, amount: '1200.50', currency: 'USD',
    companyId: company.id, contactIds: [contact.id], leadId: lead.id, status: 'open',
  });
  t.match(after, {
    id: lead.id, status: 'converted', version: 2, convertedContactId: contact.id, convertedCompanyId: company.id, convertedDealId: deal.id,
    matchingContactId: contact.id,
  });
  t.ok(after.convertedAt);
  t.same((await send('GET', `/v1/leads/${lead.id}`)).json(), after, 'stored as answered');
  t.match((await send('GET', `/v1/activities/${call.id}`)).json(), { leadId: lead.id, contactId: contact.id, companyId: company.id, dealId: deal.id });

  const evs = (await db.select().from(events).where(eq(events.requestId, `conv-${u}`)).orderBy(asc(events.id))).map((e) => e.type);
  for (const type of ['company.created', 'contact.created', 'deal.created', 'activity.updated', 'lead.updated', 'lead.converted']) {
    t.ok(evs.includes(type), `${type} emitted in the conversion`);
  }
  const converted = (await db.select().from(events).where(eq(events.type, 'lead.converted'))).find((e) => e.entityId === lead.id);
  t.match(converted?.data.after, { lead: { id: lead.id, status: 'converted' }, contactId: contact.id, companyId: company.id, dealId: deal.id });

  const again = await convert(lead.id, { dealName: 'Twice' });
  t.equal(again.statusCode, 409, 'converting twice is a conflict');
  t.match(again.json(), { code: 'conflict' });
  t.equal(await countOf('/v1/deals/count', { 'filter[name][eq]': 'Twice' }), 0);
  const patch = await send('PATCH', `/v1/leads/${lead.id}`, { status: 'new' });
  t.equal(patch.statusCode, 400, 'a converted lead stays converted');
});

t.test('the live contact with the email and the live company with the domain are reused; no deal unless asked', async (t) => {
  const u = uniq();
  const company = await created('/v1/companies', { name: 'Existing Co', domain: `existing-${u}.example` });
  const contact = await created('/v1/contacts', { firstName: 'Old', lastName: 'Name', email: `reuse.${u}@example.com` });
  const lead = await created('/v1/leads', { firstName: 'New', email: `Reuse.${u}@example.com`, companyName: 'Other Name', companyDomain: `existing-${u}.example` });
  t.equal(lead.matchingContactId, contact.id, 'the duplicate shows before conversion');
  const res = await send('POST', `/v1/leads/${lead.id}/convert`);
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.contact.id, contact.id);
  t.equal(body.contact.firstName, 'Old', 'a reused contact is left as it is');
  t.equal(body.company.id, company.id);
  t.equal(body.company.name, 'Existing Co');
  t.equal(body.deal, null, 'no body at all: no deal');
  t.match(body.lead, { convertedContactId: contact.id, convertedCompanyId: company.id, convertedDealId: null });
  t.equal(await countOf('/v1/contacts/count', { 'filter[email][eq]': `reuse.${u}@example.com` }), 1);
  t.equal(await countOf('/v1/companies/count', { 'filter[domain][eq]': `existing-${u}.example` }), 1);

  const person = await created('/v1/leads', { firstName: 'Solo', lastName: u });
  const solo = (await convert(person.id, { pipelineId: pipeline.id })).json();
  t.equal(solo.company, null, 'no company name nor domain: no company');
  t.match(solo.deal, { name: `Solo ${u} deal`, stageId: qualify.id, companyId: null });
});

t.test('any failure rolls everything back: no contact, no company, the lead unchanged', async (t) => {
  const u = uniq();
  const lead = await created('/v1/leads', { firstName: 'Rolly', email: `rollback.${u}@example.com`, companyName: 'Rollback Co', companyDomain: `rollback-${u}.example` });
  await created('/v1/activities', { type: 'note', leadId: lead.id });
  const nothingLeft = async (what: string) => {
    t.equal(await countOf('/v1/contacts/count', { 'filter[email][eq]': `rollback.${u}@example.com` }), 0, `${what}: no contact`);
    t.equal(await countOf('/v1/companies/count', { 'filter[domain][eq]': `rollback-${u}.example` }), 0, `${what}: no company`);
    t.match((await send('GET', `/v1/leads/${lead.id}`)).json(), { status: 'new', version: 1, convertedContactId: null });
    t.equal(await countOf('/v1/activities/count', { 'filter[leadId][eq]': lead.id, 'filter[contactId][isNull]': 'true' }), 1, `${what}: activities untouched`);
  };
  const badCurrency = await convert(lead.id, { amount: '10.123', currency: 'USD' }, admin, { 'x-request-id': `rb-${u}` });
  t.equal(badCurrency.statusCode, 400, 'the deal refuses more decimals than USD has');
  t.match(badCurrency.json(), { code: 'validation_failed' });
  await nothingLeft('bad currency');
  t.same(await db.select().from(events).where(eq(events.requestId, `rb-${u}`)), [], 'no event of the failed conversion');

  const noOpenStage = await convert(lead.id, { pipelineId: wonOnly.id });
  t.equal(noOpenStage.statusCode, 422);
  t.match(noOpenStage.json(), { code: 'invalid_reference', errors: [{ path: 'pipelineId' }] });
  await nothingLeft('no open stage');

  const currencyAlone = await convert(lead.id, { currency: 'USD' });
  t.equal(currencyAlone.statusCode, 400);
  const unknown = await convert(lead.id, { dealName: 'x', probability: 3 });
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json().errors, [{ path: 'probability' }]);
  await nothingLeft('bad bodies');
});

t.test('two conversions at once: one 200, one 409, one contact', async (t) => {
  const u = uniq();
  const lead = await created('/v1/leads', { firstName: 'Racer', email: `race.${u}@example.com`, companyDomain: `race-${u}.example` });
  const results = await Promise.all([convert(lead.id, { dealName: `Race ${u}` }), convert(lead.id, { dealName: `Race ${u}` })]);
  t.same(results.map((r) => r.statusCode).sort(), [200, 409]);
  t.equal(await countOf('/v1/contacts/count', { 'filter[email][eq]': `race.${u}@example.com` }), 1);
  t.equal(await countOf('/v1/companies/count', { 'filter[domain][eq]': `race-${u}.example` }), 1);
  t.equal(await countOf('/v1/deals/count', { 'filter[name][eq]': `Race ${u}` }), 1);
});

t.test('scope and roles: sales convert their own leads only (404 otherwise), support 403, marketing no deals', async (t) => {
  const mine = await created('/v1/leads', { firstName: 'Own', lastName: uniq() }, salesA);
  const theirs = await created('/v1/leads', { firstName: 'Theirs' }, salesB);
  const outside = await convert(theirs.id, {}, salesA);
  t.equal(outside.statusCode, 404);
  t.equal((await send('GET', `/v1/leads/${theirs.id}`)).json().status, 'new');
  const ok = await convert(mine.id, { dealName: `Sales deal ${mine.lastName}` }, salesA);
  t.equal(ok.statusCode, 200);
  t.match(ok.json(), { contact: { ownerId: salesA.id, teamId: teamA }, deal: { ownerId: salesA.id, teamId: teamA } });
  t.equal((await convert(mine.id, {}, h.user('support'))).statusCode, 403);
  const marketing = h.user('marketing');
  const lead = await created('/v1/leads', { firstName: 'Campaign', email: `mkt.${uniq()}@example.com` }, marketing);
  t.equal((await convert(lead.id, { dealName: 'Marketing deal' }, marketing)).statusCode, 403, 'marketing may not write deals');
  t.equal((await send('GET', `/v1/leads/${lead.id}`)).json().status, 'new');
  t.equal((await convert(lead.id, {}, marketing)).statusCode, 200, 'but converts without a deal');
});

t.test('GraphQL: convertLead and the converted relations through loaders', async (t) => {
  const u = uniq();
  const lead = await created('/v1/leads', { firstName: 'Graph', email: `graph.${u}@example.com`, companyName: `Graph ${u}` });
  const CONVERT = `mutation($id: ID!, $input: LeadConvertInput) { convertLead(id: $id, input: $input) {
    lead { id status convertedDealId } contact { id email } company { id name } deal { id name amount currency stageId } } }`;
  const res = await h.gql(admin, CONVERT, { id: lead.id, input: { dealName: `GQL ${u}`, amount: '99.5', currency: 'EUR' } });
  t.same(res.body.errors, undefined);
  const conv = res.body.data?.convertLead;
  t.match(conv, { lead: { status: 'converted' }, contact: { email: `graph.${u}@example.com` }, company: { name: `Graph ${u}` }, deal: { name: `GQL ${u}`, amount: '99.50', currency: 'EUR', stageId: qualify.id } });
  t.equal(conv.lead.convertedDealId, conv.deal.id);
  const again = await h.gql(admin, CONVERT, { id: lead.id });
  t.equal(again.body.errors?.[0]?.extensions.code, 'conflict');
  const rel = await h.gql(admin, `query($id: ID!) { lead(id: $id) { convertedContact { id } convertedCompany { id } convertedDeal { id name } } }`, { id: lead.id });
  t.same(rel.body.data?.lead, { convertedContact: { id: conv.contact.id }, convertedCompany: { id: conv.company.id }, convertedDeal: { id: conv.deal.id, name: `GQL ${u}` } });
  const other = await created('/v1/leads', { firstName: 'Hidden' }, salesB);
  t.equal((await h.gql(salesA, CONVERT, { id: other.id })).body.errors?.[0]?.extensions.code, 'not_found');
  const bad = await h.gql(admin, CONVERT, { id: other.id, input: { amount: '1.999', currency: 'USD' } });
  t.equal(bad.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.equal((await send('GET', `/v1/leads/${other.id}`)).json().status, 'new');
});
