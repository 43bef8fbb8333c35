import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import {
  countQuerySchema, listQuerySchema, parseFields, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { Workflow, WorkflowCreate, WorkflowId, WorkflowList, WorkflowPatch, WorkflowRunList, workflowFieldNames } from './workflow.schema.js';
import { workflowFilterable, workflowSortable } from './workflow.repository.js';
import type { WorkflowService } from './workflow.service.js';

const listOptions = { sortable: workflowSortable, filterable: workflowFilterable };
const tags = ['workflows'];
const RunsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`Page size, 1–${MAX_LIMIT}, default 50`),
  cursor: z.string().max(2048).optional().describe('The nextCursor of the previous page'),
}).strict();

/** Workflows (API.md §5 Marketing; configuration): every role reads, admin and manager write. */
export const workflowRoutes: FastifyPluginAsyncZod<{ workflows: WorkflowService }> = async (app, { workflows }) => {
  app.get('/workflows', {
    schema: { tags, operationId: 'listWorkflows', summary: 'List workflows', querystring: listQuerySchema(listOptions), response: withProblems({ 200: WorkflowList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, workflowFieldNames);
    const page = await workflows.list(contextOf(req), toListParams(req.query));
    return { data: page.items.map((x) => pickFields(x, fields)), nextCursor: page.nextCursor };
  });

  app.get('/workflows/count', {
    schema: { tags, operationId: 'countWorkflows', summary: 'Count workflows matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await workflows.count(contextOf(req), toListParams(req.query)) }));

  app.post('/workflows', {
    schema: { tags, operationId: 'createWorkflow', summary: 'Create a workflow: on an event matching trigger, when conditions hold, run the actions', body: WorkflowCreate, response: withProblems({ 201: Workflow }) },
  }, async (req, reply) => {
    const created = await workflows.create(contextOf(req), req.body);
    setEtag(reply, created);
    return reply.code(201).header('location', `/v1/workflows/${created.id}`).send(created);
  });

  app.get('/workflows/:id', {
    schema: {
      tags, operationId: 'getWorkflow', summary: 'Read a workflow', params: WorkflowId,
      querystring: recordQuerySchema({}).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: Workflow }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, workflowFieldNames);
    const workflow = await workflows.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true' });
    setEtag(reply, workflow);
    return pickFields(workflow, fields);
  });

  app.get('/workflows/:id/runs', {
    schema: { tags, operationId: 'listWorkflowRuns', summary: 'The workflow\'s runs, newest first, with each action\'s result', params: WorkflowId, querystring: RunsQuery, response: withProblems({ 200: WorkflowRunList }) },
  }, async (req) => {
    const page = await workflows.runs(contextOf(req), req.params.id, req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.patch('/workflows/:id', {
    schema: { tags, operationId: 'updateWorkflow', summary: 'Change a workflow (JSON merge patch; If-Match optional)', params: WorkflowId, body: WorkflowPatch, response: withProblems({ 200: Workflow }) },
  }, async (req, reply) => {
    const workflow = await workflows.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, workflow);
    return workflow;
  });

  app.delete('/workflows/:id', {
    schema: { tags, operationId: 'deleteWorkflow', summary: 'Delete a workflow (soft; restore undoes)', params: WorkflowId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await workflows.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/workflows/:id/restore', {
    schema: { tags, operationId: 'restoreWorkflow', summary: 'Restore a deleted workflow', params: WorkflowId, response: withProblems({ 200: Workflow }) },
  }, async (req, reply) => {
    const workflow = await workflows.restore(contextOf(req), req.params.id);
    setEtag(reply, workflow);
    return workflow;
  });
};
