import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Problem, withProblems } from '../../platform/http/problem.schema.js';
import type { EngagementService } from './engagement.service.js';

// Tracking links of campaign mail (API.md §5 Marketing): outside /v1 and without credentials, since
// they are followed from inboxes. The token is the credential: signed, naming one recipient.

/** the smallest transparent GIF: 1×1, 43 bytes */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const Token = z.object({ token: z.string().min(1).max(200) });
const origin = (req: FastifyRequest) => ({ requestId: req.id, ip: req.ip, userAgent: req.headers['user-agent'] });
const tags = ['campaigns'];
/** documented as what it is: a GIF, not JSON; a bad or foreign token is still a problem+json 4XX */
const pixel = { description: 'A 1×1 transparent GIF', content: { 'image/gif': { schema: z.string().describe('43 bytes of GIF') } } };

export const trackingRoutes: FastifyPluginAsyncZod<{ engagement: EngagementService }> = async (app, { engagement }) => {
  app.get('/t/o/:token', {
    schema: {
      tags, operationId: 'trackOpen', security: [], summary: 'Open pixel of a campaign message: records an open, answers a 1×1 GIF',
      params: Token, response: { 200: pixel, '4XX': Problem, '5XX': Problem },
    },
  }, async (req, reply) => {
    await engagement.opened(req.params.token, origin(req));
    // a Buffer goes out as it is (Fastify serialises only objects); the schema documents the body for the spec
    return reply.header('cache-control', 'no-store, private').type('image/gif').send(PIXEL as unknown as string);
  });

  app.get('/t/c/:token', {
    schema: {
      tags, operationId: 'trackClick', security: [],
      summary: 'Tracked link of a campaign message: records a click and redirects, only to one of the campaign\'s own links',
      params: Token, querystring: z.object({ u: z.string().max(2000).optional().describe('the link, as the message carries it') }),
      response: withProblems({ 302: z.null().describe('Location: the link') }),
    },
  }, async (req, reply) => {
    const url = await engagement.clicked(req.params.token, req.query.u, origin(req));
    return reply.header('cache-control', 'no-store, private').redirect(url, 302);
  });
};
