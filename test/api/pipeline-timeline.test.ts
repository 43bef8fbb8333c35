import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Deals and converted leads on the contact and company timelines and in the 360 view (API.md §5):
// stage changes interleaved with activities newest first, paging across kinds, the same items over
// GraphQL, and the scopes of the deals and leads endpoints applied to them.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

async function call(method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown>, who = admin) {
  const res = await h.request({ method, url, headers: who.auth, payload });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}
const get = (url: string, who = admin) => h.request({ method: 'GET', url, headers: who.auth });
const pause = () => new Promise((r) => setTimeout(r, 5));

type Item = { type: string; occurredAt: string; entityType: string; entityId: string; summary: string; data: Record<string, any> };

async function walk(url: string, limit: number, who = admin): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, who);
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    const body = res.json() as { data: Item[]; nextCursor: string | null };
    items.push(...body.data);
    cursor = body.nextCursor;
  } while (cursor && ++pages < 100);
  return items;
}

// Two teams: a sales rep of team A, and a sales rep of team B who must not see A's deals.
const teamA = await call('POST', '/v1/teams', { name: 'Team A' });
const teamB = await call('POST', '/v1/teams', { name: 'Team B' });
const repA = await call('POST', '/v1/users', { email: 'rep.a@timeline.example', password: 'a long passphrase', name: 'Rep A', role: 'sales', teamIds: [teamA.id] });
const repB = await call('POST', '/v1/users', { email: 'rep.b@timeline.example', password: 'a long passphrase', name: 'Rep B', role: 'sales', teamIds: [teamB.id] });
const salesA = h.user('sales', { id: repA.id, teamIds: [teamA.id] });
const salesB = h.user('sales', { id: repB.id, teamIds: [teamB.id] });

const pipeline = await call('POST', '/v1/pipelines', {
  name: 'Timeline sales', stages: [{ name: 'Qualify', probability: 20 }, { name: 'Propose', probability: 60 }, { name: 'Won', probability: 100, kind: 'won' }],
});
const [qualify, propose, won] = pipeline.stages as { id: string; name: string }[];

const company = await call('POST', '/v1/companies', { name: 'Deal Timeline Co', domain: 'deal-timeline.example' });
const contact = await call('POST', '/v1/contacts', { firstName: 'Dee', lastName: 'Ell', email: 'dee@deal-timeline.example', companyId: company.id });

const note = await call('POST', '/v1/activities', { type: 'note', subject: 'First talk', contactId: contact.id });
await pause();
const dealA = await call('POST', '/v1/deals', {
  name: 'Big order', pipelineId: pipeline.id, stageId: qualify!.id, amount: '1200.50', currency: 'SAR',
  companyId: company.id, contactIds: [contact.id], ownerId: repA.id, teamId: teamA.id,
});
await pause();
await call('PATCH', `/v1/deals/${dealA.id}`, { stageId: propose!.id });
await pause();
const call2 = await call('POST', '/v1/activities', { type: 'call', subject: 'Pricing call', contactId: contact.id });
await pause();
const closed = await call('POST', '/v1/deals', { name: 'Small order', pipelineId: pipeline.id, stageId: qualify!.id, contactIds: [contact.id] });
await pause();
await call('PATCH', `/v1/deals/${closed.id}`, { stageId: won!.id });

t.test('contact timeline: stage changes of its deals interleaved with activities, newest first, paged without gaps', async (t) => {
  const all = await walk(`/v1/contacts/${contact.id}/timeline`, 50);
  const ofKind = all.filter((i) => i.type === 'deal_stage' || i.type === 'activity').map((i) => i.summary);
  t.same(ofKind, [
    'Deal "Small order" moved from Qualify to Won',
    'Deal "Small order" created in Qualify',
    'call: Pricing call',
    'Deal "Big order" moved from Qualify to Propose',
    'Deal "Big order" created in Qualify',
    'note: First talk',
  ], 'every stage change and activity, newest first');
  const moved = all.find((i) => i.summary === 'Deal "Big order" moved from Qualify to Propose')!;
  t.equal(moved.entityType, 'deal');
  t.equal(moved.entityId, dealA.id);
  t.equal(moved.data.amount, '1200.50', 'the amount in its currency');
  t.equal(moved.data.fromStageId, qualify!.id);
  t.equal(moved.data.toStageId, propose!.id);
  t.ok(moved.data.timeInPreviousStageMs >= 0, 'time spent in the stage left');
  t.equal(moved.data.changedBy, admin.id);

  const paged = await walk(`/v1/contacts/${contact.id}/timeline`, 1);
  t.same(paged.map((i) => `${i.type}:${i.occurredAt}:${i.summary}`), all.map((i) => `${i.type}:${i.occurredAt}:${i.summary}`), 'one item a page walks the same stream');
  t.ok(all.some((i) => i.type === 'activity' && i.entityId === note.id) && all.some((i) => i.entityId === call2.id));
});

t.test('company timeline: deals linked by companyId', async (t) => {
  const items = await walk(`/v1/companies/${company.id}/timeline`, 50);
  t.same(items.filter((i) => i.type === 'deal_stage').map((i) => i.summary), [
    'Deal "Big order" moved from Qualify to Propose', 'Deal "Big order" created in Qualify',
  ], 'only the deal that names the company');
});

t.test('scopes: support sees no deals, another team sees none of team A\'s deals', async (t) => {
  const support = await walk(`/v1/contacts/${contact.id}/timeline`, 50, h.user('support'));
  t.notOk(support.some((i) => i.type === 'deal_stage'), 'support may not read deals');
  t.ok(support.some((i) => i.type === 'activity'), 'but still reads the activities');
  const b = await walk(`/v1/contacts/${contact.id}/timeline`, 50, salesB);
  t.notOk(b.some((i) => i.entityId === dealA.id), 'team B does not see team A\'s deal');
  const a = await walk(`/v1/contacts/${contact.id}/timeline`, 50, salesA);
  t.ok(a.some((i) => i.entityId === dealA.id), 'team A sees its deal');
});

t.test('a converted lead appears on the contact and company it became', async (t) => {
  const lead = await call('POST', '/v1/leads', { firstName: 'Lee', lastName: 'Dee', email: 'lee.dee@convert.example', companyName: 'Convert Co', companyDomain: 'convert.example' });
  const done = await call('POST', `/v1/leads/${lead.id}/convert`, {});
  const items = await walk(`/v1/contacts/${done.contact.id}/timeline`, 50);
  const converted = items.find((i) => i.type === 'lead_converted');
  t.ok(converted, 'the conversion is on the new contact');
  t.equal(converted?.entityId, lead.id);
  t.equal(converted?.summary, 'Converted from lead Lee Dee');
  const onCompany = await walk(`/v1/companies/${done.company.id}/timeline`, 50);
  t.ok(onCompany.some((i) => i.type === 'lead_converted' && i.entityId === lead.id), 'and on the company');
  t.notOk((await walk(`/v1/contacts/${done.contact.id}/timeline`, 50, h.user('support'))).some((i) => i.type === 'lead_converted'), 'support may not read leads');

  const view = (await get(`/v1/contacts/${done.contact.id}/360`)).json();
  t.same(view.convertedLeads.map((l: { id: string; status: string }) => [l.id, l.status]), [[lead.id, 'converted']], 'the lead is in the 360 view');
  t.notOk('convertedLeads' in (await get(`/v1/contacts/${done.contact.id}/360`, h.user('support'))).json(), 'absent for support');
  const g = await h.gql(admin, 'query($id: ID!) { contact360(id: $id) { convertedLeads { id email } } }', { id: done.contact.id });
  t.same(g.body.data?.contact360.convertedLeads, [{ id: lead.id, email: 'lee.dee@convert.example' }], 'and over GraphQL');
});

t.test('360: open deals of the contact, scoped; absent for a role without deals', async (t) => {
  const res = await get(`/v1/contacts/${contact.id}/360`);
  t.equal(res.statusCode, 200);
  t.same(res.json().openDeals.map((d: { id: string }) => d.id), [dealA.id], 'the won deal is not open');
  t.equal(res.json().openDeals[0].amount, '1200.50');
  t.same((await get(`/v1/contacts/${contact.id}/360`, salesB)).json().openDeals, [], 'team B sees none of A\'s deals');
  const support = (await get(`/v1/contacts/${contact.id}/360`, h.user('support'))).json();
  t.notOk('openDeals' in support, 'support may not read deals: the part is absent, not empty');
  t.equal(support.contact.id, contact.id, 'the rest of the view is there');
});

t.test('GraphQL: the same timeline items and 360 open deals', async (t) => {
  const r = await h.gql(admin, `query($id: ID!) {
    contactTimeline(id: $id, first: 50) { edges { node { type summary entityId } } }
    contact360(id: $id) { openDeals { id name stage { name } } }
  }`, { id: contact.id });
  t.notOk(r.body.errors, JSON.stringify(r.body.errors));
  const nodes = r.body.data?.contactTimeline.edges.map((e: { node: Item }) => e.node);
  t.same(nodes.filter((n: Item) => n.type === 'deal_stage').map((n: Item) => n.summary), [
    'Deal "Small order" moved from Qualify to Won', 'Deal "Small order" created in Qualify',
    'Deal "Big order" moved from Qualify to Propose', 'Deal "Big order" created in Qualify',
  ]);
  t.same(r.body.data?.contact360.openDeals, [{ id: dealA.id, name: 'Big order', stage: { name: 'Propose' } }]);
  const support = await h.gql(h.user('support'), `query($id: ID!) { contact360(id: $id) { contact { id } openDeals { id } } }`, { id: contact.id });
  t.notOk(support.body.errors, JSON.stringify(support.body.errors));
  t.equal(support.body.data?.contact360.openDeals, null, 'null for a role without deals');
});
