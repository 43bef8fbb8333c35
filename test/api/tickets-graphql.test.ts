import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Tickets, comments and satisfaction over GraphQL: the same services as REST (validation, transitions,
// SLA due times, roles), and the relations through loaders: Ticket.requester, Ticket.assignee,
// Ticket.comments, TicketComment.ticket, Contact.tickets, contact360.openTickets.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const support = h.user('support');
const sales = h.user('sales');
const marketing = h.user('marketing');
const viewer = h.user('viewer');

type Who = ReturnType<typeof h.user>;
async function created(url: string, body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`create ${url} failed: ${res.body}`);
  return res.json();
}

/** `who` null: no Authorization header at all */
async function gql(query: string, variables?: Record<string, unknown>, who: Who | null = admin) {
  const res = await h.gql(who ?? undefined, query, variables);
  const errors = res.body.errors ?? [];
  return { data: res.body.data, errors, codes: errors.map((e) => e.extensions.code) };
}

const policy = await created('/v1/sla-policies', { name: 'Around the clock', targets: [{ priority: 'high', firstResponseMinutes: 30, resolutionMinutes: 300 }] });
const requester = await created('/v1/contacts', { firstName: 'Gia', lastName: 'Graph', email: 'gia@example.com' });
const agent = await created('/v1/users', { email: `agent-${randomUUID()}@example.com`, password: `pw-${randomUUID()}`, name: 'Ada Agent', role: 'support' });

const FIELDS = 'id version subject status priority channel requesterId assigneeId slaPolicyId firstResponseDueAt resolutionDueAt firstRespondedAt solvedAt closedAt slaBreached slaPausedMinutes satisfactionScore tags custom createdAt';
const CREATE = `mutation($input: TicketCreateInput!) { createTicket(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: TicketPatchInput!, $v: Int) { updateTicket(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const COMMENT = 'mutation($t: ID!, $input: TicketCommentCreateInput!) { createTicketComment(ticketId: $t, input: $input) { id body visibility authorType authorId ticket { id status firstRespondedAt } } }';
const plus = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

t.test('create, read, update with expectedVersion, transitions, delete, restore, list and count', async (t) => {
  const made = await gql(CREATE, { input: { subject: 'GraphQL ticket', priority: 'high', slaPolicyId: policy.id, requesterId: requester.id, assigneeId: agent.id, tags: ['vip'] } }, support);
  t.same(made.errors, []);
  const tk = made.data?.createTicket;
  t.match(tk, { version: 1, status: 'new', priority: 'high', channel: 'api', assigneeId: agent.id, slaPolicyId: policy.id, tags: ['vip'], slaBreached: false });
  t.equal(tk.firstResponseDueAt, plus(tk.createdAt, 30));
  t.equal(tk.resolutionDueAt, plus(tk.createdAt, 300));
  const one = await gql(`query($id: ID!) { ticket(id: $id) { ${FIELDS} requester { id email } assignee { id name } } }`, { id: tk.id }, viewer);
  t.match(one.data?.ticket, { ...tk, requester: { id: requester.id, email: 'gia@example.com' }, assignee: { id: agent.id, name: 'Ada Agent' } });

  t.same((await gql(CREATE, { input: { subject: 'x' } })).codes, ['validation_failed']);
  t.same((await gql(CREATE, { input: { subject: 'x', requesterId: randomUUID() } })).codes, ['invalid_reference']);
  const viaEmail = await gql(CREATE, { input: { subject: 'By mail', requesterEmail: 'someone.new@example.com', channel: 'email' } });
  t.same(viaEmail.errors, []);
  t.not(viaEmail.data?.createTicket.requesterId, requester.id);

  const ok = await gql(UPDATE, { id: tk.id, input: { status: 'solved' }, v: 1 }, support);
  t.match(ok.data?.updateTicket, { status: 'solved', version: 2, solvedAt: String });
  t.same((await gql(UPDATE, { id: tk.id, input: { status: 'open' }, v: 1 })).codes, ['version_conflict']);
  t.same((await gql(UPDATE, { id: tk.id, input: { status: 'pending' } })).codes, ['conflict'], 'solved only reopens to open');
  t.match((await gql(UPDATE, { id: tk.id, input: { status: 'closed' } })).data?.updateTicket, { status: 'closed', closedAt: String });
  const final = await gql(UPDATE, { id: tk.id, input: { status: 'open' } });
  t.same(final.codes, ['conflict']);
  t.match(final.errors[0]?.extensions.errors, [{ path: 'status', message: /final/ }]);
  t.same((await gql(UPDATE, { id: randomUUID(), input: { priority: 'low' } })).codes, ['not_found']);

  const list = await gql(`query($r: ID!) { tickets(filter: { requesterId: { eq: $r }, status: { in: [closed, open] }, priority: { eq: high } }, sort: [{ field: createdAt, direction: DESC }], first: 5) {
    edges { node { id status } cursor } pageInfo { hasNextPage endCursor } } }`, { r: requester.id }, sales);
  t.same(list.errors, []);
  t.same(list.data?.tickets.edges.map((e: { node: { id: string } }) => e.node.id), [tk.id]);
  const search = await gql('query { tickets(q: "graphql") { edges { node { id } } } }');
  t.same(search.data?.tickets.edges.map((e: { node: { id: string } }) => e.node.id), [tk.id]);
  t.equal((await gql('query($r: ID!) { ticketsCount(filter: { requesterId: { eq: $r } }) }', { r: requester.id })).data?.ticketsCount, 1);

  t.equal((await gql('mutation($id: ID!) { deleteTicket(id: $id) }', { id: tk.id }, support)).data?.deleteTicket, true);
  t.same((await gql('query($id: ID!) { ticket(id: $id) { id } }', { id: tk.id })).codes, ['not_found']);
  t.same((await gql('mutation($id: ID!) { restoreTicket(id: $id) { id } }', { id: tk.id }, support)).codes, ['forbidden']);
  t.match((await gql('mutation($id: ID!) { restoreTicket(id: $id) { id deletedAt } }', { id: tk.id })).data?.restoreTicket, { id: tk.id, deletedAt: null });
  const batch = await gql('mutation($r: [JSON!]!) { batchTickets(operation: create, records: $r) { index status id } }', {
    r: [{ subject: 'Batch GQL', requesterId: requester.id }],
  }, support);
  t.match(batch.data?.batchTickets, [{ index: 0, status: 'created' }]);
});

t.test('comments, first response, requester reopening, satisfaction and loaders', async (t) => {
  const tk = (await gql(CREATE, { input: { subject: 'Loaded', requesterId: requester.id, status: 'pending' } })).data?.createTicket;
  const first = await gql(COMMENT, { t: tk.id, input: { body: 'Hello from support' } }, support);
  t.same(first.errors, []);
  t.match(first.data?.createTicketComment, { body: 'Hello from support', visibility: 'public', authorType: 'user', authorId: support.id, ticket: { id: tk.id, status: 'pending', firstRespondedAt: String } });
  const back = await gql(COMMENT, { t: tk.id, input: { body: 'Thanks, one more thing', fromRequester: true } }, support);
  t.match(back.data?.createTicketComment, { authorType: 'contact', authorId: requester.id, ticket: { status: 'open' } });
  await gql(COMMENT, { t: tk.id, input: { body: 'note', visibility: 'internal' } });
  t.same((await gql(COMMENT, { t: tk.id, input: { body: 'x' } }, sales)).codes, ['forbidden']);

  const page = await gql('query($t: ID!) { ticketComments(ticketId: $t, filter: { visibility: { eq: public } }, sort: [{ field: createdAt, direction: DESC }], first: 1) { edges { node { body } } pageInfo { hasNextPage } } }', { t: tk.id }, viewer);
  t.same(page.errors, []);
  t.same(page.data?.ticketComments.edges.map((e: { node: { body: string } }) => e.node.body), ['Thanks, one more thing']);
  t.equal(page.data?.ticketComments.pageInfo.hasNextPage, true);
  const cid = first.data?.createTicketComment.id;
  t.match((await gql('mutation($t: ID!, $id: ID!) { updateTicketComment(ticketId: $t, id: $id, input: { body: "Hello!" }, expectedVersion: 1) { body version } }', { t: tk.id, id: cid })).data?.updateTicketComment, { body: 'Hello!', version: 2 });
  t.equal((await gql('mutation($t: ID!, $id: ID!) { deleteTicketComment(ticketId: $t, id: $id) }', { t: tk.id, id: cid })).data?.deleteTicketComment, true);

  const RATE = 'mutation($id: ID!, $s: Int!) { rateTicket(id: $id, input: { score: $s, comment: "ok" }) { satisfactionScore satisfactionComment } }';
  t.same((await gql(RATE, { id: tk.id, s: 5 })).codes, ['conflict'], 'not yet solved');
  await gql(UPDATE, { id: tk.id, input: { status: 'solved' } });
  t.same((await gql(RATE, { id: tk.id, s: 9 })).codes, ['validation_failed']);
  t.same((await gql(RATE, { id: tk.id, s: 5 }, support)).data?.rateTicket, { satisfactionScore: 5, satisfactionComment: 'ok' });
  t.same((await gql(RATE, { id: tk.id, s: 4 })).codes, ['conflict'], 'once');
  const fb = await gql('query($c: ID!) { feedbacks(filter: { contactId: { eq: $c }, type: { eq: csat } }) { edges { node { score ticketId } } } }', { c: requester.id });
  t.same(fb.data?.feedbacks.edges.map((e: { node: unknown }) => e.node), [{ score: 5, ticketId: tk.id }]);

  const other = await created('/v1/contacts', { firstName: 'Other' });
  await gql(CREATE, { input: { subject: 'Other ticket', requesterId: other.id } });
  const q = `query($ids: [ID!]) { contacts(filter: { id: { in: $ids } }, sort: [{ field: firstName }]) { edges { node { id tickets { subject comments { body authorType } requester { id } } } } } }`;
  const res = await gql(q, { ids: [requester.id, other.id] }, viewer);
  t.same(res.errors, []);
  const byId = Object.fromEntries(res.data?.contacts.edges.map((e: { node: { id: string; tickets: unknown } }) => [e.node.id, e.node.tickets]));
  t.same((byId[other.id] as unknown[]).length, 1);
  const loaded = (byId[requester.id] as { subject: string; comments: unknown[]; requester: { id: string } }[]).find((x) => x.subject === 'Loaded');
  t.same(loaded?.comments, [{ body: 'Thanks, one more thing', authorType: 'contact' }, { body: 'note', authorType: 'user' }], 'oldest first, deleted ones gone');
  t.same(loaded?.requester, { id: requester.id });

  const open = await gql('query($id: ID!) { contact360(id: $id) { openTickets { subject status } } }', { id: other.id }, sales);
  t.same(open.data?.contact360.openTickets, [{ subject: 'Other ticket', status: 'new' }]);
  const tl = await gql('query($id: ID!) { contactTimeline(id: $id) { edges { node { type summary entityType } } } }', { id: other.id });
  t.same(tl.data?.contactTimeline.edges.map((e: { node: unknown }) => e.node).filter((n: { type: string }) => n.type === 'ticket'), [
    { type: 'ticket', summary: 'Ticket "Other ticket" (new)', entityType: 'ticket' },
  ]);
});

t.test('roles: marketing refused on every operation, readers may not write, anonymous is unauthenticated', async (t) => {
  const tk = (await gql(CREATE, { input: { subject: 'Roles', requesterId: requester.id } })).data?.createTicket;
  for (const [query, vars] of [
    ['query($id: ID!) { ticket(id: $id) { id } }', { id: tk.id }],
    ['query { tickets { edges { node { id } } } }', {}],
    ['query { ticketsCount }', {}],
    ['query($t: ID!) { ticketComments(ticketId: $t) { edges { node { id } } } }', { t: tk.id }],
    [CREATE, { input: { subject: 'x', requesterId: requester.id } }],
    [UPDATE, { id: tk.id, input: { priority: 'low' } }],
    [COMMENT, { t: tk.id, input: { body: 'x' } }],
  ] as const) {
    t.same((await gql(query, vars, marketing)).codes, ['forbidden'], `marketing: ${query.slice(0, 40)}`);
  }
  const view = await gql('query($id: ID!) { contact360(id: $id) { contact { id } openTickets { id } } }', { id: requester.id }, marketing);
  t.equal(view.data?.contact360.openTickets, null, 'null for marketing');
  for (const who of [sales, viewer]) {
    t.same((await gql(CREATE, { input: { subject: 'x', requesterId: requester.id } }, who)).codes, ['forbidden']);
    t.same((await gql(UPDATE, { id: tk.id, input: { priority: 'low' } }, who)).codes, ['forbidden']);
    t.same((await gql('mutation($id: ID!) { deleteTicket(id: $id) }', { id: tk.id }, who)).codes, ['forbidden']);
  }
  t.same((await gql('query { tickets { edges { node { id } } } }', undefined, null)).codes, ['unauthenticated']);
  t.match((await gql(UPDATE, { id: tk.id, input: { priority: 'urgent' } }, support)).data?.updateTicket, { priority: 'urgent' });
});
