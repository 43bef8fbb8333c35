import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { and, eq, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { startSmtp } from '../helpers/smtp.js';
import { createModules } from '../../src/app.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { campaignRecipients } from '../../src/modules/marketing/campaign.table.js';
import { workflowRuns } from '../../src/modules/marketing/workflow.table.js';
import { MAX_DEPTH } from '../../src/modules/marketing/workflow-runner.js';

// Workflows against real parts: each action type (mail to a real SMTP server, calls to a real HTTP
// receiver on 127.0.0.1), a loop that stops, and two workers that never run one event twice.

const smtp = await startSmtp();
const hooks: { headers: http.IncomingHttpHeaders; body: string }[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => { body += c.toString(); });
  req.on('end', () => { hooks.push({ headers: req.headers, body }); res.writeHead(204).end(); });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
const h = await startTestApp({ env: { SMTP_URL: smtp.url, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
const db = h.db.database.db;
const { marketing } = createModules({ config: h.config, db, signAccessToken: () => '' });
const runner = marketing.services.runner;
t.teardown(async () => { marketing.services.mailer.close(); await h.close(); await smtp.close(); receiver.close(); });

const admin = h.user('admin');
const req = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, user = admin) =>
  h.request({ method, url, headers: user.auth, ...(payload === undefined ? {} : { payload: payload as object }) });
async function must(method: 'POST' | 'PATCH' | 'PUT', url: string, payload: unknown, status: number) {
  const r = await h.request({ method, url, headers: admin.auth, payload: payload as object });
  if (r.statusCode !== status) throw new Error(`${method} ${url} → ${r.statusCode} ${r.body}`);
  return r.json();
}
/** the workers of every process: fan out what the feed has, then carry out the runs */
const work = async () => {
  for (let i = 0; i < 10; i++) {
    await runner.fanOut(db);
    if ((await runner.runDue(db)) === 0) return;
  }
};
const workflow = (body: Record<string, unknown>) => must('POST', '/v1/workflows', body, 201);
const runsOf = async (id: string) => (await req('GET', `/v1/workflows/${id}/runs`)).json().data as { status: string; depth: number; entityId: string; results: { type: string; status: string; detail: string }[] }[];
const uniq = () => Math.random().toString(36).slice(2, 8);
// workflows left enabled by a subtest would act in the later ones: each subtest turns its own off
const off = (id: string) => must('PATCH', `/v1/workflows/${id}`, { enabled: false }, 200);

t.test('create_task, add_tag and update_field on contact.created, when the conditions hold', async (t) => {
  await must('POST', '/v1/custom-fields', { entity: 'contact', key: 'source_note', label: 'Note', type: 'text' }, 201);
  const w = await workflow({
    name: 'new leads', trigger: { event: 'contact.created' }, conditions: { filter: { lifecycleStage: { eq: 'lead' } } },
    actions: [
      { type: 'create_task', params: { subject: 'Call the new lead', dueInMinutes: 60 } },
      { type: 'add_tag', params: { tag: 'nurture' } },
      { type: 'update_field', params: { field: 'custom.source_note', value: 'from workflow' } },
    ],
  });
  const lead = await must('POST', '/v1/contacts', { firstName: 'Lea', lifecycleStage: 'lead', tags: ['x'] }, 201);
  const other = await must('POST', '/v1/contacts', { firstName: 'Cus', lifecycleStage: 'customer' }, 201);
  await work();
  const runs = await runsOf(w.id);
  t.equal(runs.length, 1, 'the customer does not meet the conditions');
  t.match(runs[0], { status: 'succeeded', entityId: lead.id, depth: 1 });
  t.same(runs[0]?.results.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded']);
  const tasks = (await req('GET', `/v1/activities?filter[contactId][eq]=${lead.id}&filter[type][eq]=task`)).json().data;
  t.equal(tasks.length, 1);
  t.equal(tasks[0].subject, 'Call the new lead');
  t.ok(tasks[0].dueAt, 'due in an hour');
  const after = (await req('GET', `/v1/contacts/${lead.id}`)).json();
  t.same(after.tags, ['x', 'nurture']);
  t.equal(after.custom.source_note, 'from workflow');
  t.equal((await req('GET', `/v1/activities?filter[contactId][eq]=${other.id}`)).json().data.length, 0);
  const audit = (await req('GET', `/v1/audit-logs?entityType=contact&entityId=${lead.id}`)).json().data;
  t.ok(audit.some((a: { actorType: string; requestId: string }) => a.actorType === 'system' && a.requestId === `workflow:${w.id}:1`), 'the changes are audited as the workflow\'s');
  await off(w.id);
});

t.test('assign_owner: a user, or round robin within a team', async (t) => {
  const team = await must('POST', '/v1/teams', { name: `rr ${uniq()}` }, 201);
  const users = [];
  for (let i = 0; i < 2; i++) {
    const u = await must('POST', '/v1/users', { email: `rr${i}.${uniq()}@ex.test`, password: 'round robin pass', name: `RR ${i}`, role: 'sales' }, 201);
    await must('PUT', `/v1/teams/${team.id}/members/${u.id}`, undefined, 200);
    users.push(u.id as string);
  }
  const w = await workflow({ name: 'rr', trigger: { event: 'lead.created' }, actions: [{ type: 'assign_owner', params: { teamId: team.id, strategy: 'round_robin' } }] });
  const leads = [];
  for (let i = 0; i < 4; i++) leads.push((await must('POST', '/v1/leads', { firstName: `L${i}`, email: `l${i}.${uniq()}@ex.test` }, 201)).id);
  await work();
  const owners = [];
  for (const id of leads) owners.push((await req('GET', `/v1/leads/${id}`)).json().ownerId);
  const sorted = [...users].sort();
  t.same(owners, [sorted[0], sorted[1], sorted[0], sorted[1]], 'in turn');
  await off(w.id);
  const agent = await must('POST', '/v1/users', { email: `agent.${uniq()}@ex.test`, password: 'round robin pass', name: 'Agent', role: 'support' }, 201);
  const direct = await workflow({ name: 'direct', trigger: { event: 'ticket.created' }, actions: [{ type: 'assign_owner', params: { userId: agent.id } }] });
  const wrong = await workflow({ name: 'wrong', trigger: { event: 'ticket.created' }, actions: [{ type: 'assign_owner', params: { userId: users[0] } }] });
  const requester = await must('POST', '/v1/contacts', { firstName: 'Req' }, 201);
  const ticket = await must('POST', '/v1/tickets', { subject: 'Help', requesterId: requester.id }, 201);
  await work();
  t.equal((await req('GET', `/v1/tickets/${ticket.id}`)).json().assigneeId, agent.id, 'a ticket\'s owner is its assignee');
  const [failed] = await runsOf(wrong.id);
  t.match(failed, { status: 'failed', results: [{ status: 'failed', detail: /tickets go to admin, manager or support users/ }] }, 'the ticket rules apply, and the run log says so');
  await off(direct.id);
  await off(wrong.id);
});

t.test('send_email, call_webhook and enroll_in_campaign', async (t) => {
  const seg = await must('POST', '/v1/segments', { name: 'none', rules: { filter: { firstName: { eq: 'nobody at all' } } } }, 201);
  const campaign = await must('POST', '/v1/campaigns', { name: 'Welcome', segmentId: seg.id, subject: 'Welcome {{firstName}}', content: '<p>Hi</p>' }, 201);
  const w = await workflow({
    name: 'welcome', trigger: { event: 'contact.created' }, conditions: { filter: { tags: { eq: 'welcome' } } },
    actions: [
      { type: 'send_email', params: { subject: 'Hello {{firstName}}', content: '<p>Dear {{firstName}}</p>' } },
      { type: 'call_webhook', params: { url: hookUrl } },
      { type: 'enroll_in_campaign', params: { campaignId: campaign.id } },
    ],
  });
  const inbox = smtp.received.length;
  const yes = await must('POST', '/v1/contacts', { firstName: '<i>Yas</i>', email: `yes.${uniq()}@ex.test`, emailOptIn: true, tags: ['welcome'] }, 201);
  const no = await must('POST', '/v1/contacts', { firstName: 'No', email: `no.${uniq()}@ex.test`, tags: ['welcome'] }, 201);
  await work();
  const mails = smtp.received.slice(inbox);
  t.same(mails.map((m) => m.to), [yes.email], 'only the opted-in contact is mailed');
  t.match(String(mails[0]?.mail.html), 'Dear &lt;i&gt;Yas&lt;/i&gt;');
  t.equal(hooks.length, 2, 'the webhook is called for each run');
  const payload = JSON.parse(hooks[0]?.body ?? '{}');
  t.match(payload, { workflowId: w.id, event: { type: 'contact.created' } });
  t.equal(hooks[0]?.headers['x-crm-workflow-id'], w.id);
  const enrolled = await db.select().from(campaignRecipients).where(eq(campaignRecipients.campaignId, campaign.id));
  t.same(enrolled.map((r) => r.contactId), [yes.id], 'only the opted-in contact is enrolled');
  const runs = await runsOf(w.id);
  const forNo = runs.find((r) => r.entityId === no.id);
  t.same(forNo?.results.map((r) => r.status), ['skipped', 'succeeded', 'skipped'], 'the results say why');
  await must('POST', `/v1/campaigns/${campaign.id}/send`, {}, 200);
  t.equal(await marketing.services.sender.drain(db), 1, 'the enrolled contact is mailed with the campaign');
  await off(w.id);
});

t.test('a workflow\'s own change does not trigger it again; two workflows feeding each other stop at the depth limit', async (t) => {
  const self = await workflow({ name: 'self', trigger: { event: 'contact.updated' }, actions: [{ type: 'update_field', params: { field: 'jobTitle', value: 'touched' } }] });
  const c = await must('POST', '/v1/contacts', { firstName: 'Loop' }, 201);
  await must('PATCH', `/v1/contacts/${c.id}`, { lastName: 'Once' }, 200);
  await work();
  t.equal((await runsOf(self.id)).length, 1, 'its own update made no second run');
  await off(self.id);
  const a = await workflow({ name: 'ping', trigger: { event: 'contact.updated' }, conditions: { filter: { firstName: { eq: 'PingPong' } } }, actions: [{ type: 'update_field', params: { field: 'jobTitle', value: 'ping' } }] });
  const b = await workflow({ name: 'pong', trigger: { event: 'contact.updated' }, conditions: { filter: { firstName: { eq: 'PingPong' } } }, actions: [{ type: 'update_field', params: { field: 'jobTitle', value: 'pong' } }] });
  const p = await must('POST', '/v1/contacts', { firstName: 'PingPong' }, 201);
  await must('PATCH', `/v1/contacts/${p.id}`, { lastName: 'go' }, 200);
  await work();
  await work();
  const runs = [...await runsOf(a.id), ...await runsOf(b.id)].filter((r) => r.entityId === p.id);
  t.equal(Math.max(...runs.map((r) => r.depth)), MAX_DEPTH, `the chain stops at depth ${MAX_DEPTH}`);
  t.ok(runs.length <= 2 * MAX_DEPTH, `${runs.length} runs in all`);
  await off(a.id);
  await off(b.id);
});

t.test('two workers never run one event twice', async (t) => {
  const w = await workflow({ name: 'once', trigger: { event: 'company.created' }, actions: [{ type: 'create_task', params: { subject: 'Qualify' } }] });
  const companies = [];
  for (let i = 0; i < 6; i++) companies.push((await must('POST', '/v1/companies', { name: `Once ${i} ${uniq()}` }, 201)).id);
  await Promise.all([runner.fanOut(db), runner.fanOut(db), runner.fanOut(db)]);
  await Promise.all([runner.runDue(db), runner.runDue(db), runner.runDue(db)]);
  await work();
  const { rows } = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM activities WHERE subject = 'Qualify' AND company_id = ANY(${`{${companies.join(',')}}`}::uuid[])`);
  t.equal(rows[0]?.n, 6, 'one task per company');
  const runs = await db.select().from(workflowRuns).where(and(eq(workflowRuns.workflowId, w.id)));
  t.equal(runs.length, 6, 'one run per event');
  t.ok(runs.every((r) => r.status === 'succeeded'));
  await off(w.id);
});

t.test('validation, roles and GraphQL', async (t) => {
  const bad = await req('POST', '/v1/workflows', {
    name: 'bad', trigger: { event: 'Contact Created' }, conditions: { filter: { status: { around: 1 } } },
    actions: [{ type: 'add_tag', params: {} }, { type: 'call_webhook', params: { url: 'http://169.254.169.254/latest' } }],
  });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().errors, [{ path: 'trigger.event' }, { path: 'actions.0.params.tag' }]);
  const meta = await req('POST', '/v1/workflows', { name: 'meta', trigger: { event: 'contact.*' }, conditions: { filter: { status: { around: 1 } } }, actions: [{ type: 'call_webhook', params: { url: 'http://169.254.169.254/latest' } }] });
  t.equal(meta.statusCode, 400);
  t.match(meta.json().errors, [{ path: 'conditions.filter.status.around' }, { path: 'actions.0.params.url' }]);
  t.equal((await req('GET', '/v1/workflows', undefined, h.user('viewer'))).statusCode, 200, 'configuration: every role reads');
  t.equal((await req('POST', '/v1/workflows', { name: 'x', trigger: { event: 'contact.created' }, actions: [{ type: 'add_tag', params: { tag: 'x' } }] }, h.user('marketing'))).statusCode, 403);
  const created = await h.gql(h.user('manager'), `mutation { createWorkflow(input: {name: "g", enabled: false, trigger: {event: "deal.won"}, actions: [{type: add_tag, params: {tag: "won"}}]}) { id enabled trigger { event } actions { type params } } }`);
  t.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  t.match(created.body.data?.createWorkflow, { enabled: false, trigger: { event: 'deal.won' }, actions: [{ type: 'add_tag', params: { tag: 'won' } }] });
  const runs = await h.gql(h.user('viewer'), `query($id: ID!) { workflowRuns(id: $id) { edges { node { status } } } }`, { id: created.body.data?.createWorkflow.id });
  t.same(runs.body.data?.workflowRuns.edges, []);
  const refused = await h.gql(h.user('sales'), `mutation { createWorkflow(input: {name: "g", trigger: {event: "deal.won"}, actions: [{type: add_tag, params: {tag: "won"}}]}) { id } }`);
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden');
});

t.test('a schedule: every pass runs once for each contact its rules select, whatever the number of processes', async (t) => {
  const tag = `sched${uniq()}`;
  const picked = [];
  for (let i = 0; i < 2; i++) picked.push((await must('POST', '/v1/contacts', { firstName: `S${i}`, tags: [tag] }, 201)).id as string);
  await must('POST', '/v1/contacts', { firstName: 'Not picked' }, 201);
  const w = await workflow({
    name: 'hourly', trigger: { schedule: { everyMinutes: 60 } }, conditions: { filter: { tags: { eq: tag } } },
    actions: [{ type: 'add_tag', params: { tag: 'seen' } }],
  });
  t.ok(w.nextRunAt, 'the first pass is due at once');
  await Promise.all([runner.schedule(db), runner.schedule(db)]);
  await work();
  let runs = await runsOf(w.id);
  t.same(runs.map((r) => r.entityId).sort(), [...picked].sort(), 'one run per selected contact');
  for (const id of picked) t.same((await req('GET', `/v1/contacts/${id}`)).json().tags, [tag, 'seen']);
  await runner.schedule(db);
  await work();
  t.equal((await runsOf(w.id)).length, 2, 'the next pass is an hour away');
  await queryRows(db, sql`UPDATE workflows SET next_run_at = now() - interval '1 minute' WHERE id = ${w.id}::uuid`);
  await runner.schedule(db);
  await work();
  runs = await runsOf(w.id);
  t.equal(runs.length, 4, 'the second pass');
  t.same(runs.slice(0, 2).map((r) => r.results[0]?.status), ['skipped', 'skipped'], 'already tagged');
  const bad = await req('POST', '/v1/workflows', { name: 'x', trigger: { schedule: { everyMinutes: 60 } }, actions: [{ type: 'add_tag', params: { tag: 'x' } }] });
  t.match(bad.json().errors, [{ path: 'conditions' }]);
  const typo = await req('POST', '/v1/workflows', { name: 'x', trigger: { schedule: { everyMinutes: 60 } }, conditions: { filter: { nope: { eq: 1 } } }, actions: [{ type: 'add_tag', params: { tag: 'x' } }] });
  t.match(typo.json().errors, [{ path: 'conditions.filter.nope' }]);
  await off(w.id);
});
