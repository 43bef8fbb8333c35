import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import { type GraphqlModule, mergeLoaders, mergeResolvers } from '../../platform/graphql/index.js';
import type { Module } from '../customer/index.js';

export interface IntegrationModuleDeps {
  config: Config;
  db: Executor;
}

/**
 * The integration module's face (API.md §5 "Integration"): the change feed over the outbox, and
 * webhooks that deliver it, signed, with retries. Each part adds its routes, GraphQL and workers below.
 */
export function integrationModule({ config, db }: IntegrationModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  const workers: NonNullable<Module['workers']> = [];
  void config; void db;

  // ---- change feed (feed.*) ----

  // ---- webhooks and deliveries (webhook.*, delivery.*) ----

  return {
    services: {},
    routes: (async (app) => {
      for (const r of routes) await app.register(r);
    }) as FastifyPluginAsync,
    graphql: {
      resolvers: mergeResolvers(graphql),
      loaders: mergeLoaders(graphql.map((g) => g.loaders)),
    } satisfies GraphqlModule,
    workers,
  } satisfies Module & { services: unknown };
}
