import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import mercurius, { type IResolvers, type MercuriusLoaders } from 'mercurius';
import { AppError } from '../errors/app-error.js';
import type { RequestContext } from '../auth/actor.js';
import { contextOf } from '../auth/authenticate.js';
import { scalarResolvers } from './scalars.js';
import { type GraphqlLimits, limitRules } from './limits.js';
import { graphqlErrorFormatter } from './errors.js';
import { graphiqlRoutes } from './graphiql.js';
import { loaderResolvers } from './loaders.js';
import { type SubscriptionAuthOptions, subscriptionOptions, subscriptionsOverWebSocketOnly, validateSubscription } from './subscriptions.js';

export const schemaPath = fileURLToPath(new URL('../../../schema.graphql', import.meta.url));

/** What a module contributes to the one GraphQL schema. */
export interface GraphqlModule {
  resolvers: IResolvers;
  loaders?: MercuriusLoaders;
}

declare module 'mercurius' {
  interface MercuriusContext {
    requestContext?: RequestContext;
  }
}

/** The caller of a resolver; resolvers never run unauthenticated, the auth hook sees to that. */
export function callerOf(ctx: { requestContext?: RequestContext | undefined }): RequestContext {
  if (!ctx.requestContext) throw new AppError('unauthenticated', 'Authentication required');
  return ctx.requestContext;
}

function mergeMaps<T extends object>(parts: (T | undefined)[]): T {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of parts) {
    for (const [type, fields] of Object.entries(p ?? {})) {
      out[type] = typeof fields === 'object' && fields !== null && !(fields.constructor?.name === 'GraphQLScalarType')
        ? { ...out[type], ...(fields as Record<string, unknown>) }
        : (fields as Record<string, unknown>);
    }
  }
  return out as T;
}

// Only a scalar's behaviour goes to mercurius: it copies every own key of the implementation onto the
// schema's scalar, and the implementation's undefined `description` and `astNode` would erase
// schema.graphql's descriptions from introspection.
const scalarBehaviour = Object.fromEntries(
  Object.entries(scalarResolvers).map(([name, s]) => [name, { serialize: s.serialize, parseValue: s.parseValue, parseLiteral: s.parseLiteral }]),
);

/** Loaders of several parts merged per type (Contact.deals from one module, Contact.company from another). */
export function mergeLoaders(parts: (MercuriusLoaders | undefined)[]): MercuriusLoaders {
  return mergeMaps<MercuriusLoaders>(parts);
}

export function mergeResolvers(modules: GraphqlModule[]): IResolvers {
  return mergeMaps<IResolvers>([scalarBehaviour as unknown as IResolvers, ...modules.map((m) => m.resolvers)]);
}

export async function registerGraphql(
  app: FastifyInstance,
  o: { modules: GraphqlModule[]; limits: GraphqlLimits } & SubscriptionAuthOptions,
): Promise<void> {
  await app.register(mercurius, {
    schema: readFileSync(schemaPath, 'utf8'),
    // the loaders run as batching resolvers of ours (loaders.ts), not through mercurius's `loaders`
    resolvers: mergeMaps<IResolvers>([mergeResolvers(o.modules), loaderResolvers(mergeLoaders(o.modules.map((m) => m.loaders)))]),
    path: '/graphql',
    // our own page serves GraphiQL from local files (graphiql.ts), not mercurius's, which loads it from a CDN
    graphiql: false,
    allowBatchedQueries: false,
    // No graphql-jit (mercurius `jit`): compiled queries dropped the defaults of enum variables
    // (`$e: ImportEntity! = contacts` arrived unset from the second call on), so a call's meaning
    // changed with how often its text had been seen (test/api/imports.test.ts caught it). Mercurius
    // still parses and validates each distinct text once.
    validationRules: [...limitRules(o.limits), subscriptionsOverWebSocketOnly],
    errorFormatter: graphqlErrorFormatter(o.limits.production) as never,
    context: (request) => ({ requestContext: request.actor ? contextOf(request) : undefined }),
    // WebSocket on /graphql (subscriptions.ts): auth at connect, the same limits before a subscription starts
    subscription: subscriptionOptions(app, { verifyApiKey: o.verifyApiKey }),
  });
  if (!o.limits.production) await app.register(graphiqlRoutes);
  app.graphql.addHook('preSubscriptionExecution', validateSubscription(limitRules(o.limits)));
  // An upgrade refused before @fastify/websocket's own hook ran (a bad token is a 401 from the auth hook)
  // leaves the detached socket half-open after the answer, and close() would wait for it forever.
  app.addHook('onResponse', async (request) => {
    if ((request.raw as { upgrade?: boolean }).upgrade && (request as { ws?: boolean }).ws !== true) request.raw.socket?.destroy();
  });
}
