import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { assembleModule } from '../../platform/module.js';

export interface AnalyticsModuleDeps {
  config: Config;
  /** the primary; reads only */
  db: Executor;
}

/**
 * The analytics module's face (API.md §5 "Analytics"): read-only figures computed in SQL, each defined
 * once in docs/metrics.md, scoped to the caller. Each area adds its routes and GraphQL below.
 */
export function analyticsModule({ config, db }: AnalyticsModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  void config; void db;

  // ---- sales (sales.*) ----

  // ---- customers (customers.*) ----

  // ---- service (service.*) ----

  // ---- team and kpis (team.*, kpis.*) ----

  return assembleModule({}, { routes, graphql });
}
