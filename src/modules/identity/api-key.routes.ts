import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { Uuid } from '../../platform/http/common.schema.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { ApiKeyCreate, ApiKeyList, ApiKeyWithSecret, type ApiKeyService } from './api-key.service.js';

const tags = ['api-keys'];
const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(), cursor: z.string().max(100).optional() }).strict();

export const apiKeyRoutes: FastifyPluginAsyncZod<{ apiKeys: ApiKeyService }> = async (app, { apiKeys }) => {
  app.post('/api-keys', { schema: { tags, operationId: 'createApiKey', summary: 'Create an API key (the key is shown once)', body: ApiKeyCreate, response: withProblems({ 201: ApiKeyWithSecret }) } },
    async (req, reply) => {
      const key = await apiKeys.create(contextOf(req), req.body);
      return reply.code(201).header('location', `/v1/api-keys/${key.id}`).send(key);
    });
  app.get('/api-keys', { schema: { tags, operationId: 'listApiKeys', summary: 'List API keys (never their secrets)', querystring: ListQuery, response: withProblems({ 200: ApiKeyList }) } },
    async (req) => apiKeys.list(contextOf(req), req.query));
  app.delete('/api-keys/:id', { schema: { tags, operationId: 'revokeApiKey', summary: 'Revoke an API key', params: z.object({ id: Uuid }), response: withProblems({ 204: NoContent }) } },
    async (req, reply) => {
      await apiKeys.revoke(contextOf(req), req.params.id);
      return reply.code(204).send(null);
    });
};
