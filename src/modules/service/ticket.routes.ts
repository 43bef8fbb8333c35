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
  Ticket, TicketCreate, TicketId, TicketList, TicketPatch, TicketSatisfaction, ticketFieldNames, ticketIncludes,
} from './ticket.schema.js';
import { ticketFilterable, ticketSortable } from './ticket.repository.js';
import type { TicketService } from './ticket.service.js';

const listOptions = { sortable: ticketSortable, filterable: ticketFilterable, search: true, include: ticketIncludes };
const tags = ['tickets'];
const withIncluded = (fields: string[] | undefined, include: string[] | undefined) => (fields && include ? [...fields, ...include] : fields);

export const ticketRoutes: FastifyPluginAsyncZod<{ tickets: TicketService }> = async (app, { tickets }) => {
  app.get('/tickets', {
    schema: { tags, operationId: 'listTickets', summary: 'List tickets (q searches subject and description)', querystring: listQuerySchema(listOptions), response: withProblems({ 200: TicketList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, ticketFieldNames);
    const include = parseInclude(req.query.include as string | undefined, ticketIncludes);
    const page = await tickets.list(contextOf(req), { ...toListParams(req.query), include });
    return { data: page.items.map((x) => pickFields(x, withIncluded(fields, include))), nextCursor: page.nextCursor };
  });

  app.get('/tickets/count', {
    schema: { tags, operationId: 'countTickets', summary: 'Count tickets matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await tickets.count(contextOf(req), toListParams(req.query)) }));

  app.post('/tickets', {
    schema: {
      tags, operationId: 'createTicket', summary: 'Open a ticket (due times from its SLA policy, or the default one)',
      body: TicketCreate, response: withProblems({ 201: Ticket }),
    },
  }, async (req, reply) => {
    const ticket = await tickets.create(contextOf(req), req.body);
    setEtag(reply, ticket);
    return reply.code(201).header('location', `/v1/tickets/${ticket.id}`).send(ticket);
  });

  app.post('/tickets/batch', {
    schema: {
      tags, operationId: 'batchTickets', summary: 'Create, update, upsert or delete up to 1000 tickets (matched by id)',
      body: batchRequestSchema(['id'], 'TicketBatch'), response: withProblems({ 200: BatchResponse }),
    },
  }, async (req) => ({ results: await tickets.batch(contextOf(req), req.body) }));

  app.get('/tickets/:id', {
    schema: {
      tags, operationId: 'getTicket', summary: 'Read a ticket', params: TicketId,
      querystring: recordQuerySchema({ include: ticketIncludes }).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: Ticket }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, ticketFieldNames);
    const include = parseInclude(req.query.include as string | undefined, ticketIncludes);
    const ticket = await tickets.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true', include });
    setEtag(reply, ticket);
    return pickFields(ticket, withIncluded(fields, include));
  });

  app.patch('/tickets/:id', {
    schema: {
      tags, operationId: 'updateTicket', summary: 'Change a ticket: status, priority, assignment… (JSON merge patch; If-Match optional)',
      params: TicketId, body: TicketPatch, response: withProblems({ 200: Ticket }),
    },
  }, async (req, reply) => {
    const ticket = await tickets.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, ticket);
    return ticket;
  });

  app.delete('/tickets/:id', {
    schema: { tags, operationId: 'deleteTicket', summary: 'Delete a ticket (soft; restore undoes)', params: TicketId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await tickets.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/tickets/:id/restore', {
    schema: { tags, operationId: 'restoreTicket', summary: 'Restore a deleted ticket', params: TicketId, response: withProblems({ 200: Ticket }) },
  }, async (req, reply) => {
    const ticket = await tickets.restore(contextOf(req), req.params.id);
    setEtag(reply, ticket);
    return ticket;
  });

  app.post('/tickets/:id/satisfaction', {
    schema: {
      tags, operationId: 'rateTicket', summary: 'Record the requester\'s CSAT (1–5) of a solved or closed ticket, once; also stored as feedback',
      params: TicketId, body: TicketSatisfaction, response: withProblems({ 200: Ticket }),
    },
  }, async (req, reply) => {
    const ticket = await tickets.rate(contextOf(req), req.params.id, req.body);
    setEtag(reply, ticket);
    return ticket;
  });
};
