import type { FastifyPluginAsync } from 'fastify';
import type { Executor } from './db/client.js';
import { type GraphqlModule, mergeLoaders, mergeResolvers } from './graphql/index.js';

/** Periodic background work of a module, started with the server's workers (tests call `run` directly). */
export interface ModuleWorker {
  name: string;
  intervalMs: number;
  /** one pass; answers how much it did (a full batch runs again at once) */
  run: (db: Executor) => Promise<number>;
}

/** What app.ts registers of a module: its REST plugin, its part of the GraphQL schema, its workers. */
export interface Module {
  routes: FastifyPluginAsync;
  /** routes outside /v1 that need no credentials (campaign tracking links); most modules have none */
  publicRoutes?: FastifyPluginAsync;
  graphql: GraphqlModule;
  workers?: ModuleWorker[];
}

/** The parts a module collects while wiring itself: one route plugin and one GraphQL part per entity. */
export interface ModuleParts {
  routes: FastifyPluginAsync[];
  graphql: GraphqlModule[];
  workers?: ModuleWorker[];
}

/** A module's face from its parts: routes registered in order, resolvers and loaders merged per type. */
export function assembleModule<S>(services: S, parts: ModuleParts): Module & { services: S } {
  return {
    services,
    routes: (async (app) => {
      for (const r of parts.routes) await app.register(r);
    }) as FastifyPluginAsync,
    graphql: {
      resolvers: mergeResolvers(parts.graphql),
      loaders: mergeLoaders(parts.graphql.map((g) => g.loaders)),
    },
    workers: parts.workers ?? [],
  };
}
