import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { stringify } from 'yaml';

export const openapiInfo = {
  title: 'Headless CRM API',
  version: '0.1.0',
  description:
    'Customers, pipeline, service, marketing and analytics over REST (this document) and GraphQL (POST /graphql, schema.graphql). ' +
    'Errors are RFC 9457 problem+json; collections are keyset-paged; see README.md for the conventions.',
};

/** The OpenAPI document generated from the route schemas: /openapi.json, /openapi.yaml, and a docs UI at /docs. */
const restTransform = createJsonSchemaTransform({ skipList: ['/docs', '/openapi.json', '/openapi.yaml', '/metrics'] });

export const openapiPlugin = fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { ...openapiInfo, license: { name: 'MIT', identifier: 'MIT' } },
      servers: [{ url: '/', description: 'this server' }],
      tags: [
        { name: 'platform', description: 'Health, readiness' },
        { name: 'companies', description: 'Organisations your contacts work for' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token from POST /v1/auth/login, or an API key crm_…' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: (input) => {
      // GraphQL and GraphiQL have their own schema (schema.graphql); keep them out of this document.
      if (input.url.startsWith('/graphql') || input.url.startsWith('/graphiql')) return { schema: { ...input.schema, hide: true }, url: input.url };
      return restTransform(input);
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/openapi.yaml', { schema: { hide: true } }, async (_req, reply) => {
    reply.type('application/yaml');
    return openapiYaml(app.swagger() as object);
  });
});

export function openapiYaml(doc: object): string {
  return stringify(doc, { lineWidth: 0 });
}
