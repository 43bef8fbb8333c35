import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Uuid } from '../../platform/http/common.schema.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { TicketComment, TicketCommentCreate, TicketCommentIds, TicketCommentList, TicketCommentPatch } from './ticket-comment.schema.js';
import { commentFilterable, commentSortable } from './ticket-comment.repository.js';
import type { TicketCommentService } from './ticket-comment.service.js';

const tags = ['tickets'];

const CommentListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`Page size, 1–${MAX_LIMIT}, default 50`),
    cursor: z.string().max(2048).optional().describe('The nextCursor of the previous page'),
    sort: z.string().max(100).optional().describe(`createdAt (oldest first, the default) or -createdAt; fields: ${commentSortable.join(', ')}`),
    filter: z.record(z.string(), z.record(z.string(), z.string())).optional().describe(`filter[field][op]=value with fields ${commentFilterable.join(', ')}`),
  })
  .strict();

export const ticketCommentRoutes: FastifyPluginAsyncZod<{ comments: TicketCommentService }> = async (app, { comments }) => {
  app.get('/tickets/:id/comments', {
    schema: {
      tags, operationId: 'listTicketComments', summary: 'The ticket\'s comments, oldest first (keyset-paged)',
      params: z.object({ id: Uuid }), querystring: CommentListQuery, response: withProblems({ 200: TicketCommentList }),
    },
  }, async (req) => {
    const page = await comments.list(contextOf(req), req.params.id, req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.post('/tickets/:id/comments', {
    schema: {
      tags, operationId: 'createTicketComment',
      summary: 'Comment on a ticket: the first public agent comment is the first response; a requester\'s reopens a pending or solved ticket',
      params: z.object({ id: Uuid }), body: TicketCommentCreate, response: withProblems({ 201: TicketComment }),
    },
  }, async (req, reply) => {
    const comment = await comments.create(contextOf(req), req.params.id, req.body);
    setEtag(reply, comment);
    return reply.code(201).header('location', `/v1/tickets/${req.params.id}/comments/${comment.id}`).send(comment);
  });

  app.patch('/tickets/:id/comments/:commentId', {
    schema: {
      tags, operationId: 'updateTicketComment', summary: 'Correct a comment\'s body (If-Match optional)',
      params: TicketCommentIds, body: TicketCommentPatch, response: withProblems({ 200: TicketComment }),
    },
  }, async (req, reply) => {
    const comment = await comments.update(contextOf(req), req.params.id, req.params.commentId, req.body, ifMatchVersion(req));
    setEtag(reply, comment);
    return comment;
  });

  app.delete('/tickets/:id/comments/:commentId', {
    schema: { tags, operationId: 'deleteTicketComment', summary: 'Delete a comment (soft)', params: TicketCommentIds, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await comments.remove(contextOf(req), req.params.id, req.params.commentId);
    return reply.code(204).send(null);
  });
};
