import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import WebSocket from 'ws';
import { startTestApp, type TestUser } from '../helpers/app.js';
import { visibleTo } from '../../src/modules/integration/subscription.service.js';
import type { Actor, Role } from '../../src/platform/auth/actor.js';

// GraphQL `recordChanged` over a real WebSocket (graphql-transport-ws): the change feed, live, filtered
// by type patterns and by what the subscriber's role may read; connections without valid credentials
// are refused. The server runs its workers, so the one poller per process feeds every subscriber.

const h = await startTestApp({ startWorkers: true });
t.teardown(() => h.close());
await h.app.listen({ port: 0, host: '127.0.0.1' });
const url = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/graphql`;

const admin = h.user('admin');
const teamA = randomUUID();
const teamB = randomUUID();
const salesA = h.user('sales', { teamIds: [teamA] });
const salesB = h.user('sales', { teamIds: [teamB] });
const support = h.user('support');

type Msg = { type: string; id?: string; payload?: any };

/** A graphql-transport-ws client: every message it got, and a way to wait for one. */
class Client {
  readonly inbox: Msg[] = [];
  closed: { code: number; reason: string } | undefined;
  private wake = new Set<() => void>();
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (m) => this.push(JSON.parse(String(m)) as Msg));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.push(undefined);
    });
  }

  private push(m: Msg | undefined) {
    if (m) this.inbox.push(m);
    for (const f of this.wake) f();
  }

  /** waits until `pred` holds (a safety limit, not a timing assertion) */
  async until<T>(pred: () => T | undefined, what: string, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = pred();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.inbox).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const f = () => { this.wake.delete(f); clearTimeout(timer); resolve(); };
        const timer = setTimeout(f, 100);
        this.wake.add(f);
      });
    }
  }

  subscribe(variables: Record<string, unknown> = {}): string {
    const id = String(this.nextId++);
    const query = `subscription ($types: [String!], $entityType: String, $entityId: ID) {
      recordChanged(types: $types, entityType: $entityType, entityId: $entityId) { id seq cursor type entityType entityId occurredAt actor { type id } data { before after } } }`;
    this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    return id;
  }

  events(id: string): any[] {
    return this.inbox.filter((m) => m.type === 'next' && m.id === id).map((m) => m.payload.data.recordChanged);
  }

  close() {
    this.ws.close();
  }
}

/** Opens a connection: `header` goes on the upgrade request, `params` in connection_init. */
async function connect(o: { header?: string; params?: Record<string, unknown>; to?: string } = {}): Promise<{ client?: Client; status?: number }> {
  const ws = new WebSocket(o.to ?? url, 'graphql-transport-ws', { headers: o.header ? { authorization: o.header } : {} });
  const opened = await new Promise<{ ok: true } | { status: number }>((resolve) => {
    ws.once('open', () => resolve({ ok: true }));
    ws.once('unexpected-response', (req, res) => {
      req.destroy(); // with this listener ws leaves the refused connection open
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', () => resolve({ status: 0 }));
  });
  if ('status' in opened) return { status: opened.status };
  const client = new Client(ws);
  t.teardown(() => client.close());
  ws.send(JSON.stringify({ type: 'connection_init', ...(o.params ? { payload: o.params } : {}) }));
  await client.until(() => client.inbox.find((m) => m.type === 'connection_ack' || m.type === 'connection_error') ?? client.closed, 'the connection answer');
  return { client };
}

const bearer = (u: TestUser) => `Bearer ${u.token}`;

async function post(who: TestUser, path: string, body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: path, headers: who.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`${path}: ${res.body}`);
  return res.json();
}
const contact = (firstName: string) => post(admin, '/v1/contacts', { firstName });

/**
 * Subscribing takes effect a moment after the message is sent, and the protocol has no answer to it:
 * make a change the subscription must see until one arrives. Later events then arrive in commit order.
 */
async function ready(c: Client, id: string, probe: () => Promise<{ id: string }>) {
  for (let i = 0; i < 100; i++) {
    const made = await probe();
    try {
      await c.until(() => c.events(id).find((e) => e.entityId === made.id), 'the probe', 500);
      return;
    } catch { /* not listening yet: probe again */ }
  }
  throw new Error('the subscription never started');
}

const pipeline = await post(admin, '/v1/pipelines', { name: 'Live', stages: [{ name: 'Open', probability: 10 }, { name: 'Next', probability: 50 }] });
const deal = (who: TestUser, name: string) => post(who, '/v1/deals', { name, pipelineId: pipeline.id, stageId: pipeline.stages[0].id });

t.test('a created contact arrives, with the feed event shape and its position', async (t) => {
  const { client } = await connect({ params: { authorization: bearer(admin) } });
  t.ok(client?.inbox.some((m) => m.type === 'connection_ack'), 'connectionParams token accepted');
  const c = client as Client;
  const sub = c.subscribe({ types: ['contact.*'] });
  await ready(c, sub, () => contact('Probe'));
  const made = await contact(`Live ${randomUUID().slice(0, 6)}`);
  const e = await c.until(() => c.events(sub).find((x) => x.entityId === made.id), 'the contact');
  t.match(e, {
    type: 'contact.created', entityType: 'contact', entityId: made.id,
    actor: { type: 'user', id: admin.id }, data: { before: null, after: { id: made.id, firstName: made.firstName } },
  });
  t.match(e.seq, /^\d+$/);
  t.match(e.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const feed = await h.request({ method: 'GET', url: '/v1/events', headers: admin.auth, query: { after: e.cursor } });
  t.equal(feed.statusCode, 200, 'the cursor is a change feed cursor');
  t.notOk(feed.json().data.some((x: { id: string }) => x.id === e.id), 'resuming from it starts after the event');
  const seqs = c.events(sub).map((x) => Number(x.seq));
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'in commit order');
  t.equal(new Set(seqs).size, seqs.length, 'each event once, however the poller\'s passes overlap');
});

t.test('type patterns and entity filters choose what arrives', async (t) => {
  const { client } = await connect({ header: bearer(admin) });
  const c = client as Client;
  t.ok(c.inbox.some((m) => m.type === 'connection_ack'), 'upgrade header token accepted');
  const updates = c.subscribe({ types: ['contact.updated'] });
  const stages = c.subscribe({ types: ['deal.stage_changed'] });
  const all = c.subscribe({});
  const target = await contact('Target');
  const onlyTarget = c.subscribe({ entityType: 'contact', entityId: target.id });
  const patch = (id: string, lastName: string) => h.request({ method: 'PATCH', url: `/v1/contacts/${id}`, headers: admin.auth, payload: { lastName } });
  await ready(c, updates, async () => (await patch(target.id, `P${randomUUID().slice(0, 4)}`)).json());
  await ready(c, onlyTarget, async () => (await patch(target.id, `Q${randomUUID().slice(0, 4)}`)).json());
  await ready(c, all, () => contact('Any'));
  const d = await deal(admin, 'Staged');
  const moved = await h.request({ method: 'PATCH', url: `/v1/deals/${d.id}`, headers: admin.auth, payload: { stageId: pipeline.stages[1].id } });
  t.equal(moved.statusCode, 200);
  await ready(c, stages, async () => d); // the stage change above is the probe's event
  const other = await contact('Other');
  await patch(other.id, 'Changed');
  const last = await contact('Last');
  await c.until(() => c.events(all).find((e) => e.entityId === last.id), 'the last contact on the unfiltered subscription');
  await c.until(() => c.events(updates).find((e) => e.entityId === other.id), 'the other update');
  t.ok(c.events(updates).every((e) => e.type === 'contact.updated'), 'contact.updated only');
  t.ok(c.events(stages).length >= 1 && c.events(stages).every((e) => e.type === 'deal.stage_changed'), 'deal.stage_changed only');
  t.ok(c.events(onlyTarget).every((e) => e.entityId === target.id), 'one record only');
  const types = new Set(c.events(all).map((e) => e.type));
  for (const x of ['contact.created', 'contact.updated', 'deal.created', 'deal.stage_changed']) t.ok(types.has(x), `no filter: ${x} too`);
});

t.test('sales gets its own deals, never another team\'s; support gets no deal events', async (t) => {
  const a = (await connect({ params: { authorization: bearer(salesA) } })).client as Client;
  const s = (await connect({ params: { authorization: bearer(support) } })).client as Client;
  const aSub = a.subscribe({ types: ['deal.*'] });
  const sSub = s.subscribe({});
  await ready(a, aSub, () => deal(salesA, 'Mine probe'));
  await ready(s, sSub, () => contact('Support probe'));
  const theirs = await deal(salesB, 'Theirs');
  const mine = await deal(salesA, 'Mine');
  const seen = await contact('After the deals');
  // events arrive in commit order: once the later one is here, the earlier one would have been too
  await a.until(() => a.events(aSub).find((e) => e.entityId === mine.id), 'my own deal');
  t.notOk(a.events(aSub).some((e) => e.entityId === theirs.id), 'another team\'s deal never arrives');
  t.ok(a.events(aSub).every((e) => e.data.after?.teamId === teamA || e.data.before?.teamId === teamA), 'only deals in scope');
  await s.until(() => s.events(sSub).find((e) => e.entityId === seen.id), 'the contact after the deals');
  t.notOk(s.events(sSub).some((e) => e.entityType === 'deal'), 'support sees no deal at all');
});

t.test('two subscribers on two connections both receive', async (t) => {
  const one = (await connect({ params: { authorization: bearer(admin) } })).client as Client;
  const two = (await connect({ header: bearer(salesA) })).client as Client;
  const s1 = one.subscribe({ types: ['contact.created'] });
  const s2 = two.subscribe({ types: ['contact.created'] });
  await ready(one, s1, () => contact('Probe one'));
  await ready(two, s2, () => contact('Probe two'));
  const made = await contact('For both');
  await one.until(() => one.events(s1).find((e) => e.entityId === made.id), 'the first subscriber');
  await two.until(() => two.events(s2).find((e) => e.entityId === made.id), 'the second subscriber');
  t.pass('both got it');
});

t.test('a second server on the same database serves its own subscribers: no broker between them', async (t) => {
  const other = await startTestApp({ db: h.db, startWorkers: true });
  t.teardown(() => other.close());
  await other.app.listen({ port: 0, host: '127.0.0.1' });
  const otherUrl = `ws://127.0.0.1:${(other.app.server.address() as AddressInfo).port}/graphql`;
  const c = (await connect({ to: otherUrl, params: { authorization: bearer(admin) } })).client as Client;
  const sub = c.subscribe({ types: ['contact.created'] });
  await ready(c, sub, () => contact('Made on the first server'));
  const made = await contact('Also made on the first server');
  await c.until(() => c.events(sub).find((e) => e.entityId === made.id), 'the change made through the other server');
  t.pass('each server polls the database itself');
});

t.test('no token or a bad one: the connection is refused', async (t) => {
  const none = await connect();
  t.ok(none.client?.inbox.some((m) => m.type === 'connection_error'), 'no credentials: connection_error');
  await none.client?.until(() => none.client?.closed, 'the close');
  t.notOk(none.client?.inbox.some((m) => m.type === 'connection_ack'));

  // change the signature's first character: its last one may only carry padding bits (the same bytes)
  const [head, body, sig] = h.user('admin').token.split('.') as [string, string, string];
  const forged = `${head}.${body}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  const badParams = await connect({ params: { authorization: `Bearer ${forged}` } });
  t.ok(badParams.client?.inbox.some((m) => m.type === 'connection_error'), 'a bad token in connectionParams');
  await badParams.client?.until(() => badParams.client?.closed, 'the close');
  const garbage = await connect({ params: { authorization: 'Bearer not-a-token' } });
  t.ok(garbage.client?.inbox.some((m) => m.type === 'connection_error'), 'garbage too');
  const badKey = await connect({ params: { authorization: 'Bearer crm_nope' } });
  t.ok(badKey.client?.inbox.some((m) => m.type === 'connection_error'), 'an unknown API key too');

  const badHeader = await connect({ header: `Bearer ${forged}` });
  t.equal(badHeader.status, 401, 'a bad token on the upgrade request: 401, no WebSocket');
  t.notOk(badHeader.client);

  // a refused connection cannot subscribe: the server closes it
  const sneaky = await connect();
  sneaky.client?.subscribe({});
  await sneaky.client?.until(() => sneaky.client?.closed, 'the close');
  t.same(sneaky.client?.events('1'), [], 'nothing delivered');
});

t.test('bad arguments and over-limit queries fail the subscription with validation_failed', async (t) => {
  const c = (await connect({ header: bearer(admin) })).client as Client;
  const bad = c.subscribe({ types: ['NOT A TYPE'] });
  const err = await c.until(() => c.inbox.find((m) => m.type === 'error' && m.id === bad), 'the error');
  t.equal(err.payload[0].extensions.code, 'validation_failed');
  t.match(err.payload[0].extensions.errors, [{ path: 'types' }]);
  const id = 'deep';
  const deep = `subscription { recordChanged { ${Array.from({ length: 60 }, (_, i) => `x${i}: id`).join(' ')} } }`;
  c.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: deep } }));
  const limit = await c.until(() => c.inbox.find((m) => m.type === 'error' && m.id === id), 'the limit error');
  t.equal(limit.payload[0].extensions.code, 'validation_failed', 'aliases over the limit refused before it starts');
  const unknown = 'unknown';
  c.ws.send(JSON.stringify({ id: unknown, type: 'subscribe', payload: { query: 'subscription { recordChanged { nope } }' } }));
  const schemaErr = await c.until(() => c.inbox.find((m) => m.type === 'error' && m.id === unknown), 'the schema error');
  t.equal(schemaErr.payload[0].extensions.code, 'validation_failed', 'schema validation applies too');

  const http = await h.gql(admin, 'subscription { recordChanged { id } }');
  t.equal(http.status, 400, 'over HTTP a subscription is refused');
  t.equal(http.body.errors?.[0]?.extensions.code, 'validation_failed');
  t.match(http.body.errors?.[0]?.message, /WebSocket/);
});

t.test('an API key works on the upgrade request; a connection closes (4401) when its access token expires', async (t) => {
  const made = await h.request({ method: 'POST', url: '/v1/api-keys', headers: admin.auth, payload: { name: 'live feed', role: 'support' } });
  t.equal(made.statusCode, 201);
  const viaKey = (await connect({ header: `Bearer ${made.json().key}` })).client as Client;
  t.ok(viaKey.inbox.some((m) => m.type === 'connection_ack'), 'the key is accepted like on any request');
  const sub = viaKey.subscribe({ types: ['contact.created', 'deal.created'] });
  await ready(viaKey, sub, () => contact('Key probe'));
  const d = await deal(admin, 'Hidden from the support key');
  const after = await contact('After the deal');
  await viaKey.until(() => viaKey.events(sub).find((e) => e.entityId === after.id), 'the contact');
  t.notOk(viaKey.events(sub).some((e) => e.entityId === d.id), 'the key\'s role decides the scope');

  const shortLived = h.app.jwt.sign({ sub: admin.id, role: 'admin', teamIds: [] }, { expiresIn: 2 });
  const c = (await connect({ params: { authorization: `Bearer ${shortLived}` } })).client as Client;
  t.ok(c.inbox.some((m) => m.type === 'connection_ack'));
  const closed = await c.until(() => c.closed, 'the close at expiry');
  t.equal(closed.code, 4401, 'closed as unauthorized: reconnect with a fresh token');
});

t.test('who sees which change: the role table per entity, record scope for sales', async (t) => {
  const as = (role: Role, teamIds: string[] = []): Actor => ({ type: 'user', id: randomUUID(), role, teamIds });
  const ev = (entityType: string, before: unknown = null, after: unknown = {}) => ({ entityType, data: { before, after } });
  for (const e of ['user', 'team', 'api_key']) {
    t.ok(visibleTo(as('admin'), ev(e)), `${e}: admin`);
    t.notOk(visibleTo(as('manager'), ev(e)), `${e}: admin only`);
  }
  t.ok(visibleTo(as('manager'), ev('import_job')), 'an entity nobody mapped: managers');
  t.notOk(visibleTo(as('sales'), ev('import_job')), 'and nobody else');
  t.ok(visibleTo(as('viewer'), ev('webhook')), 'configuration: every role reads it');
  t.notOk(visibleTo(as('marketing'), ev('ticket')), 'marketing has no tickets');
  t.ok(visibleTo(as('marketing'), ev('lead', null, { ownerId: null, teamId: null })), 'marketing reads every lead');
  const sales = as('sales', [teamA]);
  const ours = { ownerId: randomUUID(), teamId: teamA };
  const others = { ownerId: randomUUID(), teamId: teamB };
  t.ok(visibleTo(sales, ev('deal', null, ours)), 'a deal of my team');
  t.ok(visibleTo(sales, ev('deal', ours, others)), 'a deal leaving my team: seen leaving');
  t.notOk(visibleTo(sales, ev('deal', null, others)), 'another team\'s deal');
  t.notOk(visibleTo(sales, ev('lead', null, { ownerId: null, teamId: null })), 'an unowned lead is out of own/team scope');
  t.notOk(visibleTo(sales, ev('deal', null, { name: 'no owner fields' })), 'no ownership to judge: not shown');
  t.ok(visibleTo(sales, ev('contact')), 'sales reads every contact');
});
