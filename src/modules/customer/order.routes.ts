import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import { BatchResponse } from '../../platform/http/batch.js';
import { countQuerySchema, listQuerySchema, parseFields, pickFields, recordQuerySchema, toListParams } from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { Order, OrderBatch, OrderCreate, OrderId, OrderList, OrderPatch, orderFieldNames } from './order.schema.js';
import { orderFilterable, orderSortable } from './order.repository.js';
import type { OrderService } from './order.service.js';

const listOptions = { sortable: orderSortable, filterable: orderFilterable };
const tags = ['orders'];

export const orderRoutes: FastifyPluginAsyncZod<{ orders: OrderService }> = async (app, { orders }) => {
  app.get('/orders', {
    schema: { tags, operationId: 'listOrders', summary: 'List orders (lines included)', querystring: listQuerySchema(listOptions), response: withProblems({ 200: OrderList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, orderFieldNames);
    const page = await orders.list(contextOf(req), toListParams(req.query));
    return { data: page.items.map((o) => pickFields(o, fields)), nextCursor: page.nextCursor };
  });

  app.get('/orders/count', {
    schema: { tags, operationId: 'countOrders', summary: 'Count orders matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await orders.count(contextOf(req), toListParams(req.query)) }));

  app.post('/orders', {
    schema: {
      tags, operationId: 'createOrder', body: OrderCreate, response: withProblems({ 201: Order }),
      summary: "Create an order; money exact to the currency's minor unit, total = Σ quantity × unitPrice when lines are given",
    },
  }, async (req, reply) => {
    const order = await orders.create(contextOf(req), req.body);
    setEtag(reply, order);
    return reply.code(201).header('location', `/v1/orders/${order.id}`).send(order);
  });

  app.post('/orders/batch', {
    schema: {
      tags, operationId: 'batchOrders', summary: 'Create, update, upsert or delete up to 1000 orders, matched by id or externalId',
      body: OrderBatch, response: withProblems({ 200: BatchResponse }),
    },
  }, async (req) => ({ results: await orders.batch(contextOf(req), req.body) }));

  app.get('/orders/:id', {
    schema: {
      tags, operationId: 'getOrder', summary: 'Read an order with its lines', params: OrderId,
      querystring: recordQuerySchema({}).extend({ includeDeleted: z.enum(['true', 'false']).optional() }), response: withProblems({ 200: Order }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, orderFieldNames);
    const order = await orders.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true' });
    setEtag(reply, order);
    return pickFields(order, fields);
  });

  app.patch('/orders/:id', {
    schema: { tags, operationId: 'updateOrder', summary: 'Change an order (JSON merge patch; lines replace; If-Match optional)', params: OrderId, body: OrderPatch, response: withProblems({ 200: Order }) },
  }, async (req, reply) => {
    const order = await orders.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, order);
    return order;
  });

  app.delete('/orders/:id', {
    schema: { tags, operationId: 'deleteOrder', summary: 'Delete an order (soft; restore undoes)', params: OrderId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await orders.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/orders/:id/restore', {
    schema: { tags, operationId: 'restoreOrder', summary: 'Restore a deleted order', params: OrderId, response: withProblems({ 200: Order }) },
  }, async (req, reply) => {
    const order = await orders.restore(contextOf(req), req.params.id);
    setEtag(reply, order);
    return order;
  });

  app.get('/contacts/:id/orders', {
    schema: {
      tags: ['contacts', 'orders'], operationId: 'listContactOrders', summary: "The contact's purchase history: its orders, filtered and paged like GET /v1/orders",
      params: OrderId, querystring: listQuerySchema(listOptions), response: withProblems({ 200: OrderList }),
    },
  }, async (req) => {
    const fields = parseFields(req.query.fields, orderFieldNames);
    const page = await orders.ofContact(contextOf(req), req.params.id, toListParams(req.query));
    return { data: page.items.map((o) => pickFields(o, fields)), nextCursor: page.nextCursor };
  });
};
