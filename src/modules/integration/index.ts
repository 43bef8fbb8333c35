import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { type ModuleWorker, assembleModule } from '../../platform/module.js';
import { createFeedService } from './feed.service.js';
import { feedRoutes } from './feed.routes.js';
import { feedResolvers } from './feed.resolvers.js';
import { createDeliveryService } from './delivery.service.js';
import { createWebhookService } from './webhook.service.js';
import { webhookRoutes } from './webhook.routes.js';
import { webhookResolvers } from './webhook.resolvers.js';
import type { CustomerServices } from '../customer/index.js';
import type { PipelineServices } from '../pipeline/index.js';
import type { ServiceServices } from '../service/index.js';

export interface IntegrationModuleDeps {
  config: Config;
  db: Executor;
  /** the modules whose records imports write and exports read, through their services (same rules as the API) */
  customer: CustomerServices;
  pipeline: PipelineServices;
  service: ServiceServices;
}

/**
 * The integration module's face (API.md §5 "Integration"): the change feed over the outbox, and
 * webhooks that deliver it, signed, with retries. Each part adds its routes, GraphQL and workers below.
 */
export function integrationModule({ config, db, customer, pipeline, service }: IntegrationModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  const workers: ModuleWorker[] = [];
  void customer; void pipeline; void service;

  // ---- change feed (feed.*) ----
  const feed = createFeedService({ db });
  routes.push(async (app) => app.register(feedRoutes, { feed }));
  graphql.push({ resolvers: feedResolvers(feed) });

  // ---- webhooks and deliveries (webhook.*, delivery.*) ----
  const deliveries = createDeliveryService({ allowPrivateNetworks: config.webhookAllowPrivateNetworks });
  const webhooks = createWebhookService({ db, allowPrivateNetworks: config.webhookAllowPrivateNetworks, deliveries });
  routes.push(async (app) => app.register(webhookRoutes, { webhooks }));
  graphql.push({ resolvers: webhookResolvers(webhooks) });
  // both steps take the database they are given and coordinate through it (cursor row lock, SKIP LOCKED)
  workers.push({ name: 'webhook fan-out', intervalMs: 1000, run: (x) => deliveries.fanOut(x) });
  workers.push({ name: 'webhook delivery', intervalMs: 1000, run: (x) => deliveries.deliverDue(x) });

  // ---- imports (import.*) ----

  // ---- exports (export.*) ----

  // ---- live changes: GraphQL subscriptions fed by the outbox (subscription.*) ----

  return assembleModule({ feed, webhooks, deliveries }, { routes, graphql, workers });
}
