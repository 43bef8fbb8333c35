import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { assembleModule } from '../../platform/module.js';
import { customerAnalyticsResolvers } from './customers.resolvers.js';
import { customerAnalyticsRoutes } from './customers.routes.js';
import { createCustomerAnalytics } from './customers.service.js';
import { createKpis } from './kpis.service.js';
import { kpisResolvers, kpisRoutes } from './kpis.routes.js';
import { salesAnalyticsRoutes } from './sales.routes.js';
import { serviceAnalyticsResolvers, serviceAnalyticsRoutes } from './service.routes.js';
import { createServiceAnalytics } from './service.service.js';
import { createTeamAnalytics } from './team.service.js';
import { salesAnalyticsResolvers } from './sales.resolvers.js';
import { createSalesAnalytics } from './sales.service.js';
import { createSalesHistoryAnalytics } from './sales-history.service.js';
import { createMarketingAnalytics } from './marketing.service.js';
import { marketingAnalyticsResolvers, marketingAnalyticsRoutes } from './marketing.routes.js';
import { withFormats } from './formats.js';
import { analyticsExecutor } from './analytics-db.js';

export interface AnalyticsModuleDeps {
  config: Config;
  /** the read replica when DATABASE_READ_URL is set, else the primary; reads only */
  db: Executor;
}

/**
 * The analytics module's face (API.md §5 "Analytics"): read-only figures computed in SQL, each defined
 * once in docs/metrics.md, scoped to the caller. Each area adds its routes and GraphQL below.
 */
export function analyticsModule({ config, db: readDb }: AnalyticsModuleDeps) {
  // JIT off and a report-sized work_mem for every analytics statement (analytics-db.ts)
  const db = analyticsExecutor(readDb);
  const analyticsRoutes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  void config; void db;

  // ---- sales (sales.*) ----
  const sales = createSalesAnalytics({ db });
  const history = createSalesHistoryAnalytics({ db });
  analyticsRoutes.push(async (app) => app.register(salesAnalyticsRoutes, { sales, history }));
  graphql.push({ resolvers: salesAnalyticsResolvers(sales, history) });

  // ---- customers (customers.*) ----
  const customers = createCustomerAnalytics({ db });
  analyticsRoutes.push(async (app) => app.register(customerAnalyticsRoutes, { customers }));
  graphql.push({ resolvers: customerAnalyticsResolvers(customers) });

  // ---- service (service.*) ----
  const service = createServiceAnalytics({ db });
  analyticsRoutes.push(async (app) => app.register(serviceAnalyticsRoutes, { service }));
  graphql.push({ resolvers: serviceAnalyticsResolvers(service) });

  // ---- marketing: campaigns and acquisition cost (marketing.*) ----
  const marketing = createMarketingAnalytics({ db });
  analyticsRoutes.push(async (app) => app.register(marketingAnalyticsRoutes, { marketing }));
  graphql.push({ resolvers: marketingAnalyticsResolvers(marketing) });

  // ---- team and kpis (team.*, kpis.*) ----
  const kpis = createKpis({ sales, customers, service, marketing });
  const team = createTeamAnalytics({ db });
  analyticsRoutes.push(async (app) => app.register(kpisRoutes, { kpis, team }));
  graphql.push({ resolvers: kpisResolvers(kpis, team) });

  // every endpoint also answers ?format=csv|svg, rendered from its JSON figure (formats.ts)
  return assembleModule({}, { routes: [withFormats(analyticsRoutes)], graphql });
}
