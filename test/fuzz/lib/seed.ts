import { randomUUID } from 'node:crypto';
import type { TestApp, TestUser } from '../../helpers/app.js';
import type { IdPool } from './id-pool.js';

// A few records of every kind, written by hand, so generated requests find real rows behind their
// path ids and references from the first case on (a deal needs a pipeline and one of its stages,
// a comment a ticket, and so on). Each one must be created: the fuzz would be hollow otherwise.


export async function seedRecords(h: TestApp, ids: IdPool): Promise<{ admin: TestUser; failures: string[] }> {
  const bootstrap = h.user('admin');
  const failures: string[] = [];
  const post = async (url: string, body: unknown, who: TestUser = bootstrap): Promise<any> => {
    const res = await h.request({ method: 'POST', url, headers: who.auth, payload: body as object });
    if (res.statusCode !== 201 && res.statusCode !== 200) {
      failures.push(`${url}: ${res.statusCode} ${res.body.slice(0, 600)}`);
      return undefined;
    }
    const json = res.json();
    if (json?.id) ids.add(url.replace(/\/(batch)$/, ''), json.id);
    return json;
  };
  const tag = randomUUID().slice(0, 8);
  const team = await post('/v1/teams', { name: `Fuzz team ${tag}` });
  const user = await post('/v1/users', { email: `fuzz-admin-${tag}@example.com`, password: 'a-long-fuzz-password', name: 'Fuzz Admin', role: 'admin', teamIds: team ? [team.id] : [] });
  const admin = h.user('admin', { id: user?.id ?? randomUUID(), teamIds: team ? [team.id] : [] });
  await post('/v1/users', { email: `fuzz-sales-${tag}@example.com`, password: 'a-long-fuzz-password', name: 'Fuzz Sales', role: 'sales', teamIds: [] });
  await post('/v1/api-keys', { name: 'fuzz key', role: 'viewer' }, admin);

  const company = await post('/v1/companies', { name: `Fuzz Co ${tag}`, domain: `fuzz-${tag}.example` }, admin);
  const contact = await post('/v1/contacts', { firstName: 'Fuzz', lastName: 'Contact', email: `fuzz-${tag}@example.com`, companyId: company?.id, emailOptIn: true }, admin);
  await post('/v1/contacts', { firstName: 'Fuzz', lastName: 'Contact', email: `fuzz2-${tag}@example.com` }, admin);
  await post('/v1/custom-fields', { entity: 'contact', key: `tier_${tag}`, label: 'Tier', type: 'select', options: ['gold', 'silver'] }, admin);
  await post('/v1/activities', { type: 'call', subject: 'Fuzz call', contactId: contact?.id }, admin);
  const order = await post('/v1/orders', { contactId: contact?.id, status: 'paid', total: '12.50', currency: 'SAR', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '12.50' }] }, admin);
  await post(`/v1/contacts/${contact?.id}/loyalty/transactions`, { points: 100, reason: 'fuzz', ...(order ? { orderId: order.id } : {}) }, admin);
  await post('/v1/feedback', { type: 'nps', score: 9, contactId: contact?.id }, admin);

  const pipeline = await post('/v1/pipelines', { name: `Fuzz pipeline ${tag}`, stages: [{ name: 'New', probability: 10 }, { name: 'Won', probability: 100, kind: 'won' }] }, admin);
  for (const s of pipeline?.stages ?? []) ids.add('stages', s.id);
  await post('/v1/deals', { name: 'Fuzz deal', pipelineId: pipeline?.id, stageId: pipeline?.stages?.[0]?.id, amount: '1000.00', currency: 'SAR', companyId: company?.id, contactIds: [contact?.id] }, admin);
  await post('/v1/leads', { firstName: 'Fuzz', lastName: 'Lead', email: `lead-${tag}@example.com` }, admin);
  await post('/v1/leads', { firstName: 'Fuzz', lastName: 'Lead Two', email: `lead2-${tag}@example.com` }, admin);
  await post('/v1/scoring-rules', { name: 'Fuzz rule', kind: 'field', points: 5, filter: { source: { eq: 'web' } } }, admin);

  const sla = await post('/v1/sla-policies', { name: `Fuzz SLA ${tag}`, targets: [{ priority: 'high', firstResponseMinutes: 60, resolutionMinutes: 480 }] }, admin);
  const ticket = await post('/v1/tickets', { subject: 'Fuzz ticket', requesterId: contact?.id, priority: 'high', ...(sla ? { slaPolicyId: sla.id } : {}) }, admin);
  if (ticket) await post(`/v1/tickets/${ticket.id}/comments`, { body: 'Fuzz comment', visibility: 'public' }, admin).then((c) => c && ids.add(`/v1/tickets/{id}/comments`, c.id));

  const segment = await post('/v1/segments', { name: `Fuzz segment ${tag}`, rules: { filter: { lastName: { eq: 'Contact' } } } }, admin);
  await post('/v1/campaigns', { name: `Fuzz campaign ${tag}`, channel: 'email', segmentId: segment?.id, subject: 'Hello', content: 'Hi {{firstName}}' }, admin);
  await post('/v1/workflows', { name: `Fuzz workflow ${tag}`, trigger: { event: 'contact.created' }, actions: [{ type: 'add_tag', params: { tag: 'fuzz' } }] }, admin);
  await post('/v1/webhooks', { url: 'http://127.0.0.1:9/crm', events: ['contact.*'] }, admin);

  return { admin, failures };
}
