import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { FeedPage, FeedQuery } from './feed.schema.js';
import type { FeedService } from './feed.service.js';

const tags = ['events'];

/** The change feed: admin and manager (API.md §5b "Roles, more rows"). */
export const feedRoutes: FastifyPluginAsyncZod<{ feed: FeedService }> = async (app, { feed }) => {
  app.get('/events', {
    schema: {
      tags, operationId: 'listEvents',
      summary: 'Every committed change in commit order, with no gaps: poll with the nextCursor of the previous page as after',
      querystring: FeedQuery, response: withProblems({ 200: FeedPage }),
    },
  }, async (req) => feed.list(contextOf(req), req.query));
};
