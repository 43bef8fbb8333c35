import type { FastifyPluginAsync } from 'fastify';
import type { IResolvers, MercuriusLoaders } from 'mercurius';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import { type GraphqlModule, mergeLoaders, mergeResolvers } from '../../platform/graphql/index.js';
import type { CustomerServices, Module } from '../customer/index.js';
import type { UserService } from '../identity/index.js';

export interface PipelineModuleDeps {
  config: Config;
  db: Executor;
  users: Pick<UserService, 'summaries'>;
  /** the customer module's services: custom fields, contacts and companies (conversion), activities (hooks), timeline (sources, 360 parts) */
  customer: CustomerServices;
}

/**
 * The pipeline module's face (API.md §5 "Pipeline"): pipelines and stages, deals with stage history,
 * leads with scoring and conversion, and the forecast. Each part adds its routes and GraphQL below.
 */
export function pipelineModule({ config, db, users, customer }: PipelineModuleDeps) {
  void config; void db; void users; void customer;
  const routes: FastifyPluginAsync[] = [];
  const graphql: { resolvers: IResolvers; loaders?: MercuriusLoaders }[] = [];
  const workers: NonNullable<Module['workers']> = [];

  // ---- pipelines, stages and forecast (pipeline.*, forecast.*) ----

  // ---- deals (deal.*) ----

  // ---- leads, scoring rules and conversion (lead.*, scoring-rule.*, conversion.*) ----

  // ---- timeline and 360 parts (timeline-sources.ts) ----

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
