import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { type ModuleWorker, assembleModule } from '../../platform/module.js';
import { createFeedService } from './feed.service.js';
import { feedRoutes } from './feed.routes.js';
import { feedResolvers } from './feed.resolvers.js';
import { pruneEvents } from './retention.js';
import { createDeliveryService } from './delivery.service.js';
import { createWebhookService } from './webhook.service.js';
import { webhookRoutes } from './webhook.routes.js';
import { webhookResolvers } from './webhook.resolvers.js';
import { createLiveChanges } from './subscription.service.js';
import { subscriptionResolvers } from './subscription.resolvers.js';
import { createImportService } from './import.service.js';
import { importRoutes } from './import.routes.js';
import { importResolvers } from './import.resolvers.js';
import { createExportService } from './export.service.js';
import { exportRoutes } from './export.routes.js';
import { exportCollections } from './export.collections.js';
import type { CustomerServices } from '../customer/index.js';
import type { PipelineServices } from '../pipeline/index.js';
import type { ServiceServices } from '../service/index.js';
import type { MarketingServices } from '../marketing/index.js';

// What other modules may use: event type patterns (workflow triggers) and the guarded HTTP POST (workflow webhooks)
export { EventPattern, matchesType, toTypeFilter } from './feed.schema.js';
export { DELIVERY_TIMEOUT_MS, USER_AGENT, sendWebhook } from './delivery.worker.js';
export { checkUrlStatically } from './url-guard.js';
export { exportQuery } from './export.routes.js';
// analytics CSV downloads share the exports' spreadsheet safety
export { UTF8_BOM, guardFormula } from './export.csv.js';

export interface IntegrationModuleDeps {
  config: Config;
  db: Executor;
  /** the modules whose records imports write and exports read, through their services (same rules as the API) */
  customer: CustomerServices;
  pipeline: PipelineServices;
  service: ServiceServices;
  /** segments, campaigns and workflows are exported too */
  marketing: MarketingServices;
}

/**
 * The integration module's face (API.md §5 "Integration"): the change feed over the outbox, and
 * webhooks that deliver it, signed, with retries. Each part adds its routes, GraphQL and workers below.
 */
export function integrationModule({ config, db, customer, pipeline, service, marketing }: IntegrationModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  const workers: ModuleWorker[] = [];
  void customer; void pipeline; void service;

  // ---- change feed (feed.*) ----
  const feed = createFeedService({ db, retentionDays: config.eventRetentionDays });
  routes.push(async (app) => app.register(feedRoutes, { feed }));
  graphql.push({ resolvers: feedResolvers(feed) });
  // EVENT_RETENTION_DAYS (retention.ts): expired events nobody still needs, in batches; 0 keeps all
  if (config.eventRetentionDays > 0) {
    workers.push({ name: 'event retention', intervalMs: 60_000, run: (x) => pruneEvents(x, { days: config.eventRetentionDays }) });
  }

  // ---- webhooks and deliveries (webhook.*, delivery.*) ----
  const deliveries = createDeliveryService({ allowPrivateNetworks: config.webhookAllowPrivateNetworks });
  const webhooks = createWebhookService({ db, allowPrivateNetworks: config.webhookAllowPrivateNetworks, deliveries });
  routes.push(async (app) => app.register(webhookRoutes, { webhooks }));
  graphql.push({ resolvers: webhookResolvers(webhooks) });
  // both steps take the database they are given and coordinate through it (cursor row lock, SKIP LOCKED)
  workers.push({ name: 'webhook fan-out', intervalMs: 1000, run: (x) => deliveries.fanOut(x) });
  workers.push({ name: 'webhook delivery', intervalMs: 1000, run: (x) => deliveries.deliverDue(x) });

  // ---- imports (import.*) ----
  const imports = createImportService({ db, customer, pipeline });
  routes.push(async (app) => app.register(importRoutes, { imports }));
  graphql.push({ resolvers: importResolvers(imports) });
  // jobs are leased (SKIP LOCKED, renewed per chunk), so every process may run this; a pass hands its job back after ~5 s
  workers.push({ name: 'imports', intervalMs: 1000, run: (x) => imports.runDue(x) });

  // ---- exports (export.*) ----
  // REST only (a streamed download); each collection's list, scope and filters come from its own module
  const exports = createExportService({ customFields: customer.customFields });
  const collections = exportCollections(customer, pipeline, service, marketing);
  routes.push(async (app) => app.register(exportRoutes, { exports, collections }));

  // ---- live changes: GraphQL subscriptions fed by the outbox (subscription.*) ----
  const live = createLiveChanges({ db });
  graphql.push({ resolvers: subscriptionResolvers(live) });
  // one poller per process, idle while nobody subscribes; every process polls the database itself
  workers.push({ name: 'live changes', intervalMs: 250, run: (x) => live.poll(x) });

  // exports and their collections are also what `crm export` (src/cli) streams to a file
  return assembleModule({ feed, webhooks, deliveries, imports, exports, exportCollections: collections }, { routes, graphql, workers });
}
