import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import {
  countQuerySchema, listQuerySchema, parseFields, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { Pipeline, PipelineCreate, PipelineId, PipelineList, PipelinePatch, pipelineFieldNames } from './pipeline.schema.js';
import { pipelineFilterable, pipelineSortable } from './pipeline.repository.js';
import type { PipelineService } from './pipeline.service.js';

const listOptions = { sortable: pipelineSortable, filterable: pipelineFilterable };
const tags = ['pipelines'];

export const pipelineRoutes: FastifyPluginAsyncZod<{ pipelines: PipelineService }> = async (app, { pipelines }) => {
  app.get('/pipelines', {
    schema: { tags, operationId: 'listPipelines', summary: 'List pipelines with their stages', querystring: listQuerySchema(listOptions), response: withProblems({ 200: PipelineList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, pipelineFieldNames);
    const page = await pipelines.list(contextOf(req), toListParams(req.query));
    return { data: page.items.map((p) => pickFields(p, fields)), nextCursor: page.nextCursor };
  });

  app.get('/pipelines/count', {
    schema: { tags, operationId: 'countPipelines', summary: 'Count pipelines matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await pipelines.count(contextOf(req), toListParams(req.query)) }));

  app.post('/pipelines', {
    schema: { tags, operationId: 'createPipeline', summary: 'Create a pipeline with its stages', body: PipelineCreate, response: withProblems({ 201: Pipeline }) },
  }, async (req, reply) => {
    const pipeline = await pipelines.create(contextOf(req), req.body);
    setEtag(reply, pipeline);
    return reply.code(201).header('location', `/v1/pipelines/${pipeline.id}`).send(pipeline);
  });

  app.get('/pipelines/:id', {
    schema: { tags, operationId: 'getPipeline', summary: 'Read a pipeline', params: PipelineId, querystring: recordQuerySchema({}).extend({ includeDeleted: z.enum(['true', 'false']).optional() }), response: withProblems({ 200: Pipeline }) },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, pipelineFieldNames);
    const pipeline = await pipelines.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true' });
    setEtag(reply, pipeline);
    return pickFields(pipeline, fields);
  });

  app.patch('/pipelines/:id', {
    schema: { tags, operationId: 'updatePipeline', summary: 'Change a pipeline; stages, when present, are the whole new list (If-Match optional)', params: PipelineId, body: PipelinePatch, response: withProblems({ 200: Pipeline }) },
  }, async (req, reply) => {
    const pipeline = await pipelines.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, pipeline);
    return pipeline;
  });

  app.delete('/pipelines/:id', {
    schema: { tags, operationId: 'deletePipeline', summary: 'Delete a pipeline without live deals (soft; restore undoes)', params: PipelineId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await pipelines.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/pipelines/:id/restore', {
    schema: { tags, operationId: 'restorePipeline', summary: 'Restore a deleted pipeline', params: PipelineId, response: withProblems({ 200: Pipeline }) },
  }, async (req, reply) => {
    const pipeline = await pipelines.restore(contextOf(req), req.params.id);
    setEtag(reply, pipeline);
    return pipeline;
  });
};
