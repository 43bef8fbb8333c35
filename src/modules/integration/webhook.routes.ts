import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { listQuerySchema, toListParams } from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import {
  DeliveryParams, Webhook, WebhookCreate, WebhookDelivery, WebhookDeliveryList, WebhookId, WebhookList, WebhookPatch, WebhookRotateSecret,
  WebhookWithSecret,
} from './webhook.schema.js';
import { deliveryFilterable, deliverySortable, webhookFilterable, webhookSortable } from './webhook.repository.js';
import type { WebhookService } from './webhook.service.js';

const tags = ['webhooks'];
const listQuery = listQuerySchema({ sortable: webhookSortable, filterable: webhookFilterable }).omit({ fields: true });
const deliveryQuery = listQuerySchema({ sortable: deliverySortable, filterable: deliveryFilterable }).omit({ fields: true, includeDeleted: true });

/** Webhooks and their delivery log: admin and manager (they carry the change feed). */
export const webhookRoutes: FastifyPluginAsyncZod<{ webhooks: WebhookService }> = async (app, { webhooks }) => {
  app.get('/webhooks', {
    schema: { tags, operationId: 'listWebhooks', summary: 'List webhooks', querystring: listQuery, response: withProblems({ 200: WebhookList }) },
  }, async (req) => {
    const page = await webhooks.list(contextOf(req), toListParams(req.query));
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.post('/webhooks', {
    schema: {
      tags, operationId: 'createWebhook', summary: 'Create a webhook; the answer carries its secret, shown this once',
      body: WebhookCreate, response: withProblems({ 201: WebhookWithSecret }),
    },
  }, async (req, reply) => {
    const hook = await webhooks.create(contextOf(req), req.body);
    setEtag(reply, hook);
    return reply.code(201).header('location', `/v1/webhooks/${hook.id}`).send(hook);
  });

  app.get('/webhooks/:id', {
    schema: { tags, operationId: 'getWebhook', summary: 'Read a webhook (without its secret)', params: WebhookId, response: withProblems({ 200: Webhook }) },
  }, async (req, reply) => {
    const hook = await webhooks.get(contextOf(req), req.params.id);
    setEtag(reply, hook);
    return hook;
  });

  app.patch('/webhooks/:id', {
    schema: { tags, operationId: 'updateWebhook', summary: 'Change a webhook (JSON merge patch; If-Match optional)', params: WebhookId, body: WebhookPatch, response: withProblems({ 200: Webhook }) },
  }, async (req, reply) => {
    const hook = await webhooks.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, hook);
    return hook;
  });

  app.delete('/webhooks/:id', {
    schema: { tags, operationId: 'deleteWebhook', summary: 'Delete a webhook (soft; no more deliveries; restore undoes)', params: WebhookId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await webhooks.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/webhooks/:id/restore', {
    schema: { tags, operationId: 'restoreWebhook', summary: 'Restore a deleted webhook', params: WebhookId, response: withProblems({ 200: Webhook }) },
  }, async (req, reply) => {
    const hook = await webhooks.restore(contextOf(req), req.params.id);
    setEtag(reply, hook);
    return hook;
  });

  app.post('/webhooks/:id/rotate-secret', {
    schema: {
      tags, operationId: 'rotateWebhookSecret',
      summary: 'Replace the secret (shown this once); the previous one also signs deliveries until previousSecretExpiresAt',
      params: WebhookId, body: WebhookRotateSecret.nullish(), response: withProblems({ 200: WebhookWithSecret }),
    },
  }, async (req, reply) => {
    const hook = await webhooks.rotateSecret(contextOf(req), req.params.id, req.body ?? {});
    setEtag(reply, hook);
    return hook;
  });

  app.get('/webhooks/:id/deliveries', {
    schema: { tags, operationId: 'listWebhookDeliveries', summary: 'The delivery log of a webhook, newest first', params: WebhookId, querystring: deliveryQuery, response: withProblems({ 200: WebhookDeliveryList }) },
  }, async (req) => {
    const page = await webhooks.deliveries(contextOf(req), req.params.id, toListParams(req.query));
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/redeliver', {
    schema: {
      tags, operationId: 'redeliverWebhookDelivery',
      summary: 'Attempt a delivery again now, with the same event id; it starts over (fresh retries) and the answer shows the attempt',
      params: DeliveryParams, response: withProblems({ 200: WebhookDelivery }),
    },
  }, async (req) => webhooks.redeliver(contextOf(req), req.params.id, req.params.deliveryId));
};
