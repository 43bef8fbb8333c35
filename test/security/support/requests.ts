import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { sample } from 'openapi-sampler';
import type { OpenApiDocument, Operation } from './route-table.js';
import { type World, urlFor } from './world.js';

// A request each operation accepts as far as validation goes, so that a refusal seen afterwards is
// about who is calling and not about the body. Bodies are sampled from the operation's own schema
// in the served OpenAPI document (required fields only); the few whose rules a JSON schema cannot
// say (one of several fields, references that must exist, cross-field rules) are given below.

type Body = Record<string, unknown>;

function overrides(world: World): Record<string, () => Body | string> {
  const unique = () => randomUUID().slice(0, 8);
  return {
    createUser: () => ({ email: `made-${unique()}@matrix.example`, password: 'a matrix passphrase', name: 'Made', role: 'viewer' }),
    createContact: () => ({ firstName: `Made ${unique()}` }),
    createLead: () => ({ firstName: `Made ${unique()}` }),
    createOrder: () => ({ contactId: world.records.contacts, total: '12.50', currency: 'USD' }),
    createFeedback: () => ({ type: 'nps', score: 7, contactId: world.records.contacts }),
    createLoyaltyTransaction: () => ({ points: 5, reason: 'matrix' }),
    createScoringRule: () => ({ name: 'Matrix rule', kind: 'activity', points: 1, withinDays: 5 }),
    createTicket: () => ({ subject: 'Matrix ticket', requesterId: world.records.contacts }),
    createSegment: () => ({ name: `Matrix segment ${unique()}`, rules: { filter: { firstName: { eq: 'nobody' } } } }),
    createWorkflow: () => ({ name: 'Matrix workflow', enabled: false, trigger: { event: 'contact.created' }, actions: [{ type: 'add_tag', params: { tag: 'm' } }] }),
    createWebhook: () => ({ url: 'https://198.51.100.7/hooks/matrix', events: ['contact.*'], enabled: false }),
    createCustomField: () => ({ entity: 'contact', key: `matrix_${unique()}`, label: 'Matrix', type: 'text' }),
    createDeal: () => ({ name: 'Matrix deal', pipelineId: world.records.pipelines, stageId: world.nested.stageId }),
    ingestCampaignEvents: () => ({ events: [{ type: 'delivered', contactId: world.records.contacts }] }),
    mergeContacts: () => ({ primaryId: world.records.contacts, duplicateIds: [randomUUID()] }),
    mergeCompanies: () => ({ primaryId: world.records.companies, duplicateIds: [randomUUID()] }),
    createImport: () => `email,firstName\nmatrix-${unique()}@world.example,Matrix\n`,
  };
}

export interface RequestMaker {
  (op: Operation): InjectOptions;
}

export function requestMaker(document: OpenApiDocument, world: World): RequestMaker {
  const given = overrides(world);
  return (op) => {
    const query: Record<string, string> = Object.fromEntries(op.requiredQuery.map((p) => [p.name, String(sample(p.schema as never, {}, document))]));
    const base: InjectOptions = { method: op.method, url: urlFor(world, op.path), query };
    if (op.operationId === 'createImport') {
      return { ...base, query: { entity: 'contacts', idProperty: 'email' }, headers: { 'content-type': 'text/csv' }, payload: given.createImport!() as string };
    }
    const custom = given[op.operationId];
    if (custom) return { ...base, payload: custom() as Body };
    if (!op.body) return base;
    return { ...base, payload: sample(op.body as never, { skipNonRequired: true, quiet: true }, document) as Body };
  };
}
