import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import { BatchResponse, batchRequestSchema } from '../../platform/http/batch.js';
import {
  countQuerySchema, listQuerySchema, parseFields, parseInclude, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { Lead, LeadCreate, LeadId, LeadList, LeadPatch, leadFieldNames, leadIncludes } from './lead.schema.js';
import { leadFilterable, leadSortable } from './lead.repository.js';
import type { LeadService } from './lead.service.js';

const listOptions = { sortable: [...leadSortable, 'relevance (only with q, and then the default)'], filterable: [...leadFilterable, 'custom.<key>'], search: true, include: leadIncludes };
const tags = ['leads'];

/** Leads (API.md §5): sales see their own and their teams' only, support none, marketing read and write. */
export const leadRoutes: FastifyPluginAsyncZod<{ leads: LeadService }> = async (app, { leads }) => {
  app.get('/leads', {
    schema: { tags, operationId: 'listLeads', summary: 'List leads', querystring: listQuerySchema(listOptions), response: withProblems({ 200: LeadList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, leadFieldNames);
    const include = parseInclude(req.query.include as string | undefined, leadIncludes);
    const page = await leads.list(contextOf(req), { ...toListParams(req.query), include });
    return { data: page.items.map((c) => pickFields(c, fields && include ? [...fields, ...include] : fields)), nextCursor: page.nextCursor };
  });

  app.get('/leads/count', {
    schema: { tags, operationId: 'countLeads', summary: 'Count leads matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await leads.count(contextOf(req), toListParams(req.query)) }));

  app.post('/leads', {
    schema: { tags, operationId: 'createLead', summary: 'Create a lead (scored at once)', body: LeadCreate, response: withProblems({ 201: Lead }) },
  }, async (req, reply) => {
    const lead = await leads.create(contextOf(req), req.body);
    setEtag(reply, lead);
    return reply.code(201).header('location', `/v1/leads/${lead.id}`).send(lead);
  });

  app.post('/leads/batch', {
    schema: {
      tags, operationId: 'batchLeads', summary: 'Create, update, upsert or delete up to 1000 leads (upsert by id or email)',
      body: batchRequestSchema(['id', 'email'], 'LeadBatch'), response: withProblems({ 200: BatchResponse }),
    },
  }, async (req) => ({ results: await leads.batch(contextOf(req), req.body) }));

  app.get('/leads/:id', {
    schema: { tags, operationId: 'getLead', summary: 'Read a lead', params: LeadId, querystring: recordQuerySchema({ include: leadIncludes }).extend({ includeDeleted: z.enum(['true', 'false']).optional() }), response: withProblems({ 200: Lead }) },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, leadFieldNames);
    const include = parseInclude(req.query.include as string | undefined, leadIncludes);
    const lead = await leads.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true', include });
    setEtag(reply, lead);
    return pickFields(lead, fields && include ? [...fields, ...include] : fields);
  });

  app.patch('/leads/:id', {
    schema: { tags, operationId: 'updateLead', summary: 'Change a lead (JSON merge patch; If-Match optional)', params: LeadId, body: LeadPatch, response: withProblems({ 200: Lead }) },
  }, async (req, reply) => {
    const lead = await leads.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, lead);
    return lead;
  });

  app.delete('/leads/:id', {
    schema: { tags, operationId: 'deleteLead', summary: 'Delete a lead (soft; restore undoes)', params: LeadId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await leads.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/leads/:id/restore', {
    schema: { tags, operationId: 'restoreLead', summary: 'Restore a deleted lead', params: LeadId, response: withProblems({ 200: Lead }) },
  }, async (req, reply) => {
    const lead = await leads.restore(contextOf(req), req.params.id);
    setEtag(reply, lead);
    return lead;
  });
};
