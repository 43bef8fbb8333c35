import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { ROLES, type Role } from '../../../src/platform/auth/actor.js';
import type { TestApp, TestUser } from '../../helpers/app.js';

// The records every security suite aims at. One real user per role (so /v1/me answers), the sales
// caller in team A, and one record of every collection owned by a seller of team B: for the sales
// role, leads and deals of team B are "another team's records" (invisible, 404), and its contacts,
// companies and activities are visible but not writable (403).

export interface World {
  actors: Record<Role, TestUser>;
  teamA: string;
  teamB: string;
  /** the seller of team B who owns the fixtures */
  ownerB: TestUser;
  /** one live record id per collection segment of the REST paths (`contacts`, `deals`, …) */
  records: Record<string, string>;
  /** ids of nested records: `commentId`, `deliveryId`, `userId` */
  nested: Record<string, string>;
}

const unique = () => randomUUID().slice(0, 8);

export async function buildWorld(h: TestApp): Promise<World> {
  const root = h.user('admin');
  const must = async (method: InjectOptions['method'], url: string, payload?: unknown, status = 201) => {
    const res = await h.request({ method, url, headers: root.auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    if (res.statusCode !== status) throw new Error(`world: ${method} ${url} → ${res.statusCode}: ${res.body}`);
    return res.body ? res.json() : undefined;
  };
  const teamA = (await must('POST', '/v1/teams', { name: `Team A ${unique()}` })).id as string;
  const teamB = (await must('POST', '/v1/teams', { name: `Team B ${unique()}` })).id as string;
  const person = async (role: Role, team?: string) => {
    const u = await must('POST', '/v1/users', { email: `${role}-${unique()}@world.example`, password: 'world passphrase', name: `${role} ${unique()}`, role, ...(team ? { teamIds: [team] } : {}) });
    return h.user(role, { id: u.id, teamIds: team ? [team] : [] });
  };
  const actors = {} as Record<Role, TestUser>;
  for (const role of ROLES) actors[role] = await person(role, role === 'sales' ? teamA : undefined);
  const ownerB = await person('sales', teamB);
  const owned = { ownerId: ownerB.id, teamId: teamB };

  const contact = (await must('POST', '/v1/contacts', { firstName: 'Fixture', lastName: 'Contact', email: `fixture-${unique()}@world.example`, phone: '+966501234567', ...owned })).id;
  const company = (await must('POST', '/v1/companies', { name: `Fixture Co ${unique()}`, ...owned })).id;
  const activity = (await must('POST', '/v1/activities', { type: 'note', subject: 'Fixture note', contactId: contact, ownerId: ownerB.id })).id;
  const order = (await must('POST', '/v1/orders', { contactId: contact, total: '10.00', currency: 'USD', externalId: `o-${unique()}` })).id;
  const feedback = (await must('POST', '/v1/feedback', { type: 'nps', score: 9, contactId: contact })).id;
  const pipeline = await must('POST', '/v1/pipelines', { name: `Fixture pipeline ${unique()}`, stages: [{ name: 'Open', probability: 20 }, { name: 'Won', probability: 100, kind: 'won' }] });
  const deal = (await must('POST', '/v1/deals', { name: 'Fixture deal', pipelineId: pipeline.id, stageId: pipeline.stages[0].id, amount: '100.00', currency: 'USD', ...owned })).id;
  const lead = (await must('POST', '/v1/leads', { firstName: 'Fixture', lastName: 'Lead', email: `lead-${unique()}@world.example`, ...owned })).id;
  const scoringRule = (await must('POST', '/v1/scoring-rules', { name: 'Fixture rule', kind: 'activity', points: 1, withinDays: 5 })).id;
  const slaPolicy = (await must('POST', '/v1/sla-policies', { name: `Fixture SLA ${unique()}` })).id;
  const ticket = (await must('POST', '/v1/tickets', { subject: 'Fixture ticket', requesterId: contact, teamId: teamB })).id;
  const comment = (await must('POST', `/v1/tickets/${ticket}/comments`, { body: 'Fixture comment', visibility: 'internal' })).id;
  const segment = (await must('POST', '/v1/segments', { name: `Fixture segment ${unique()}`, rules: { filter: { firstName: { eq: 'nobody at all' } } } })).id;
  const campaign = (await must('POST', '/v1/campaigns', { name: 'Fixture campaign', segmentId: segment, subject: 'Hi', content: '<p>Hi</p>' })).id;
  const workflow = (await must('POST', '/v1/workflows', { name: 'Fixture workflow', enabled: false, trigger: { event: 'contact.created' }, actions: [{ type: 'add_tag', params: { tag: 'x' } }] })).id;
  const webhook = (await must('POST', '/v1/webhooks', { url: 'https://198.51.100.7/hooks/crm', events: ['contact.*'], enabled: false })).id;
  const customField = (await must('POST', '/v1/custom-fields', { entity: 'contact', key: `fixture_${unique()}`, label: 'Fixture', type: 'text' })).id;
  const importJob = (await h.request({
    method: 'POST', url: '/v1/imports?entity=contacts&idProperty=email', headers: { ...root.auth, 'content-type': 'text/csv' },
    payload: `email,firstName\nimported-${unique()}@world.example,Imported\n`,
  })).json().id as string;
  const apiKey = (await must('POST', '/v1/api-keys', { name: 'Fixture key', role: 'viewer' })).id;
  const target = await person('viewer');

  return {
    actors, teamA, teamB, ownerB,
    records: {
      contacts: contact, companies: company, activities: activity, orders: order, feedback, pipelines: pipeline.id, deals: deal, leads: lead,
      'scoring-rules': scoringRule, 'sla-policies': slaPolicy, tickets: ticket, segments: segment, campaigns: campaign, workflows: workflow,
      webhooks: webhook, 'custom-fields': customField, imports: importJob, 'api-keys': apiKey, users: target.id, teams: teamB,
    },
    nested: { commentId: comment, userId: target.id, deliveryId: randomUUID(), stageId: pipeline.stages[0].id },
  };
}

/** A concrete URL for an operation's path: `{id}` is the fixture of the collection, nested ids likewise. */
export function urlFor(world: World, path: string): string {
  const collection = path.split('/')[2] ?? '';
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (name === 'id') return world.records[collection] ?? randomUUID();
    return world.nested[name] ?? randomUUID();
  });
}
