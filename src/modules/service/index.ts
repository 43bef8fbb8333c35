import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { type ModuleWorker, assembleModule } from '../../platform/module.js';
import type { CustomerServices } from '../customer/index.js';
import type { UserService } from '../identity/index.js';

export type ServiceServices = ReturnType<typeof serviceModule>['services'];

export interface ServiceModuleDeps {
  config: Config;
  db: Executor;
  users: Pick<UserService, 'summaries'>;
  /** the customer module: requesters are contacts; tickets join the timeline, the 360 view and merges */
  customer: CustomerServices;
}

/**
 * The service module's face (API.md §5 "Service"): SLA policies counted in business time, tickets
 * with comments and satisfaction, and the breach scheduler. Each part adds its routes, GraphQL and workers below.
 */
export function serviceModule({ config, db, users, customer }: ServiceModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  const workers: ModuleWorker[] = [];
  void config; void db; void users; void customer;

  // ---- SLA policies and breach scheduler (sla-policy.*, business-time.ts, sla-breach.*) ----

  // ---- tickets, comments and satisfaction (ticket.*, ticket-comment.*) ----

  return assembleModule({}, { routes, graphql, workers });
}
