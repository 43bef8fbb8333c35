import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import {
  countQuerySchema, listQuerySchema, parseFields, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import {
  SlaPolicy, SlaPolicyCreate, SlaPolicyId, SlaPolicyList, SlaPolicyPatch, slaPolicyFieldNames,
} from './sla-policy.schema.js';
import { slaPolicyFilterable, slaPolicySortable } from './sla-policy.repository.js';
import type { SlaPolicyService } from './sla-policy.service.js';

const listOptions = { sortable: slaPolicySortable, filterable: slaPolicyFilterable };
const tags = ['sla-policies'];

/** SLA policies (API.md §5 Service): every role reads, admin and manager write (resource `config`). */
export const slaPolicyRoutes: FastifyPluginAsyncZod<{ slaPolicies: SlaPolicyService }> = async (app, { slaPolicies }) => {
  app.get('/sla-policies', {
    schema: { tags, operationId: 'listSlaPolicies', summary: 'List SLA policies', querystring: listQuerySchema(listOptions), response: withProblems({ 200: SlaPolicyList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, slaPolicyFieldNames);
    const page = await slaPolicies.list(contextOf(req), toListParams(req.query));
    return { data: page.items.map((x) => pickFields(x, fields)), nextCursor: page.nextCursor };
  });

  app.get('/sla-policies/count', {
    schema: { tags, operationId: 'countSlaPolicies', summary: 'Count SLA policies matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await slaPolicies.count(contextOf(req), toListParams(req.query)) }));

  app.post('/sla-policies', {
    schema: { tags, operationId: 'createSlaPolicy', summary: 'Create an SLA policy (isDefault true replaces the current default)', body: SlaPolicyCreate, response: withProblems({ 201: SlaPolicy }) },
  }, async (req, reply) => {
    const created = await slaPolicies.create(contextOf(req), req.body);
    setEtag(reply, created);
    return reply.code(201).header('location', `/v1/sla-policies/${created.id}`).send(created);
  });

  app.get('/sla-policies/:id', {
    schema: {
      tags, operationId: 'getSlaPolicy', summary: 'Read an SLA policy', params: SlaPolicyId,
      querystring: recordQuerySchema({}).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: SlaPolicy }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, slaPolicyFieldNames);
    const one = await slaPolicies.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true' });
    setEtag(reply, one);
    return pickFields(one, fields);
  });

  app.patch('/sla-policies/:id', {
    schema: { tags, operationId: 'updateSlaPolicy', summary: 'Change an SLA policy (JSON merge patch; If-Match optional); existing tickets keep their due times', params: SlaPolicyId, body: SlaPolicyPatch, response: withProblems({ 200: SlaPolicy }) },
  }, async (req, reply) => {
    const updated = await slaPolicies.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, updated);
    return updated;
  });

  app.delete('/sla-policies/:id', {
    schema: { tags, operationId: 'deleteSlaPolicy', summary: 'Delete an SLA policy (soft; restore undoes)', params: SlaPolicyId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await slaPolicies.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/sla-policies/:id/restore', {
    schema: { tags, operationId: 'restoreSlaPolicy', summary: 'Restore a deleted SLA policy (as a non-default one if another became the default)', params: SlaPolicyId, response: withProblems({ 200: SlaPolicy }) },
  }, async (req, reply) => {
    const restored = await slaPolicies.restore(contextOf(req), req.params.id);
    setEtag(reply, restored);
    return restored;
  });
};
