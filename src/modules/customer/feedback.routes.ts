import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import {
  countQuerySchema, listQuerySchema, parseFields, parseInclude, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import {
  Feedback, FeedbackCreate, FeedbackId, FeedbackList, FeedbackPatch, feedbackFieldNames, feedbackIncludes,
} from './feedback.schema.js';
import { feedbackFilterable, feedbackSortable } from './feedback.repository.js';
import type { FeedbackService } from './feedback.service.js';

const listOptions = { sortable: feedbackSortable, filterable: feedbackFilterable, include: feedbackIncludes };
const tags = ['feedback'];
const withRelations = (fields: string[] | undefined, include: string[] | undefined) => (fields && include ? [...fields, ...include] : fields);

export const feedbackRoutes: FastifyPluginAsyncZod<{ feedback: FeedbackService }> = async (app, { feedback }) => {
  app.get('/feedback', {
    schema: { tags, operationId: 'listFeedback', summary: 'List NPS, CSAT and CES answers', querystring: listQuerySchema(listOptions), response: withProblems({ 200: FeedbackList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, feedbackFieldNames);
    const include = parseInclude(req.query.include as string | undefined, feedbackIncludes);
    const page = await feedback.list(contextOf(req), { ...toListParams(req.query), include });
    return { data: page.items.map((x) => pickFields(x, withRelations(fields, include))), nextCursor: page.nextCursor };
  });

  app.get('/feedback/count', {
    schema: { tags, operationId: 'countFeedback', summary: 'Count feedback matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await feedback.count(contextOf(req), toListParams(req.query)) }));

  app.post('/feedback', {
    schema: { tags, operationId: 'createFeedback', summary: 'Record an NPS (0–10), CSAT (1–5) or CES (1–7) answer of a contact', body: FeedbackCreate, response: withProblems({ 201: Feedback }) },
  }, async (req, reply) => {
    const created = await feedback.create(contextOf(req), req.body);
    setEtag(reply, created);
    return reply.code(201).header('location', `/v1/feedback/${created.id}`).send(created);
  });

  app.get('/feedback/:id', {
    schema: {
      tags, operationId: 'getFeedback', summary: 'Read one answer', params: FeedbackId,
      querystring: recordQuerySchema({ include: feedbackIncludes }).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: Feedback }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, feedbackFieldNames);
    const include = parseInclude(req.query.include as string | undefined, feedbackIncludes);
    const one = await feedback.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true', include });
    setEtag(reply, one);
    return pickFields(one, withRelations(fields, include));
  });

  app.patch('/feedback/:id', {
    schema: { tags, operationId: 'updateFeedback', summary: 'Change an answer (JSON merge patch; If-Match optional)', params: FeedbackId, body: FeedbackPatch, response: withProblems({ 200: Feedback }) },
  }, async (req, reply) => {
    const updated = await feedback.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, updated);
    return updated;
  });

  app.delete('/feedback/:id', {
    schema: { tags, operationId: 'deleteFeedback', summary: 'Delete an answer (soft; restore undoes)', params: FeedbackId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await feedback.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/feedback/:id/restore', {
    schema: { tags, operationId: 'restoreFeedback', summary: 'Restore a deleted answer', params: FeedbackId, response: withProblems({ 200: Feedback }) },
  }, async (req, reply) => {
    const restored = await feedback.restore(contextOf(req), req.params.id);
    setEtag(reply, restored);
    return restored;
  });
};
