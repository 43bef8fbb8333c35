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
import {
  Deal, DealCreate, DealHistory, DealHistoryQuery, DealId, DealList, DealPatch, dealFieldNames, dealIncludes,
} from './deal.schema.js';
import { dealFilterable, dealSortable } from './deal.repository.js';
import type { DealService } from './deal.service.js';

const listOptions = { sortable: dealSortable, filterable: dealFilterable, search: true, include: dealIncludes };
const tags = ['deals'];
const withIncluded = (fields: string[] | undefined, include: string[] | undefined) => (fields && include ? [...fields, ...include] : fields);

export const dealRoutes: FastifyPluginAsyncZod<{ deals: DealService }> = async (app, { deals }) => {
  app.get('/deals', {
    schema: { tags, operationId: 'listDeals', summary: 'List deals', querystring: listQuerySchema(listOptions), response: withProblems({ 200: DealList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, dealFieldNames);
    const include = parseInclude(req.query.include as string | undefined, dealIncludes);
    const page = await deals.list(contextOf(req), { ...toListParams(req.query), include });
    return { data: page.items.map((d) => pickFields(d, withIncluded(fields, include))), nextCursor: page.nextCursor };
  });

  app.get('/deals/count', {
    schema: { tags, operationId: 'countDeals', summary: 'Count deals matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await deals.count(contextOf(req), toListParams(req.query)) }));

  app.post('/deals', {
    schema: { tags, operationId: 'createDeal', summary: 'Create a deal (at the end of its stage unless position is given)', body: DealCreate, response: withProblems({ 201: Deal }) },
  }, async (req, reply) => {
    const deal = await deals.create(contextOf(req), req.body);
    setEtag(reply, deal);
    return reply.code(201).header('location', `/v1/deals/${deal.id}`).send(deal);
  });

  app.post('/deals/batch', {
    schema: {
      tags, operationId: 'batchDeals', summary: 'Create, update, upsert or delete up to 1000 deals (matched by id)',
      body: batchRequestSchema(['id'], 'DealBatch'), response: withProblems({ 200: BatchResponse }),
    },
  }, async (req) => ({ results: await deals.batch(contextOf(req), req.body) }));

  app.get('/deals/:id', {
    schema: {
      tags, operationId: 'getDeal', summary: 'Read a deal', params: DealId,
      querystring: recordQuerySchema({ include: dealIncludes }).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: Deal }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, dealFieldNames);
    const include = parseInclude(req.query.include as string | undefined, dealIncludes);
    const deal = await deals.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true', include });
    setEtag(reply, deal);
    return pickFields(deal, withIncluded(fields, include));
  });

  app.get('/deals/:id/history', {
    schema: {
      tags, operationId: 'getDealHistory', summary: 'Stage changes of a deal, newest first',
      params: DealId, querystring: DealHistoryQuery, response: withProblems({ 200: DealHistory }),
    },
  }, async (req) => {
    const page = await deals.history(contextOf(req), req.params.id, req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.patch('/deals/:id', {
    schema: {
      tags, operationId: 'updateDeal', summary: 'Change or move a deal (JSON merge patch; If-Match optional)',
      params: DealId, body: DealPatch, response: withProblems({ 200: Deal }),
    },
  }, async (req, reply) => {
    const deal = await deals.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, deal);
    return deal;
  });

  app.delete('/deals/:id', {
    schema: { tags, operationId: 'deleteDeal', summary: 'Delete a deal (soft; restore undoes)', params: DealId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await deals.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/deals/:id/restore', {
    schema: { tags, operationId: 'restoreDeal', summary: 'Restore a deleted deal (at the end of its stage)', params: DealId, response: withProblems({ 200: Deal }) },
  }, async (req, reply) => {
    const deal = await deals.restore(contextOf(req), req.params.id);
    setEtag(reply, deal);
    return deal;
  });
};
