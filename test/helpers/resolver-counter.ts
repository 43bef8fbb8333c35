import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { FastifyInstance } from 'fastify';

// "Refused before any resolver runs" is proven by counting calls of the root resolvers themselves
// on the schema mercurius executes: every other resolver is reached only through one of them.

export interface ResolverCounter {
  calls: number;
}

export function countRootResolverCalls(app: FastifyInstance): ResolverCounter {
  const counter: ResolverCounter = { calls: 0 };
  const schema = (app as unknown as { graphql: { schema: GraphQLSchema } }).graphql.schema;
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const original: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, ctx, info) => {
        counter.calls++;
        return original(source, args, ctx, info);
      };
    }
  }
  return counter;
}
