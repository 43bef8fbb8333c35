import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { createCompanyService } from './company.service.js';
import { companyRoutes } from './company.routes.js';
import { companyResolvers, companyLoaders } from './company.resolvers.js';
import type { UserService } from '../identity/index.js';

export type { CompanyService } from './company.service.js';
export type { CompanyDto } from './company.schema.js';

export interface Module {
  routes: FastifyPluginAsync;
  graphql: GraphqlModule;
}

/** The customer module's face: its REST plugin, its GraphQL part, and the services other modules may use. */
export function customerModule({ config, db, users }: { config: Config; db: Executor; users: Pick<UserService, 'summaries'> }) {
  const companies = createCompanyService({ db, defaultPhoneRegion: config.defaultPhoneRegion, owners: (ids) => users.summaries(ids) });
  return {
    services: { companies },
    routes: (async (app) => {
      await app.register(companyRoutes, { companies });
    }) as FastifyPluginAsync,
    graphql: { resolvers: companyResolvers(companies), loaders: companyLoaders(companies) },
  } satisfies Module & { services: unknown };
}
