import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { withProblems } from '../../platform/http/problem.schema.js';
import { CONSENT_CHANNELS } from './consent-token.js';
import type { ConsentService } from './consent.service.js';

const Token = z.string().min(1).max(200).describe('the token of the unsubscribe link');
const UnsubscribeInput = z.object({ token: Token }).strict().meta({ id: 'UnsubscribeInput' });
export const UnsubscribeResult = z
  .object({ unsubscribed: z.literal(true), channel: z.enum(CONSENT_CHANNELS) })
  .meta({ id: 'UnsubscribeResult' });

const tags = ['contacts'];
/** Open endpoints (campaign links carry no credentials): the auth hook lets them through; the rate limit goes by IP. */
const open = { public: true } as const;
const origin = (req: FastifyRequest) => ({ requestId: req.id, ip: req.ip, userAgent: req.headers['user-agent'] });

export const consentRoutes: FastifyPluginAsyncZod<{ consent: ConsentService }> = async (app, { consent }) => {
  app.get('/unsubscribe', {
    config: open,
    schema: {
      tags, operationId: 'unsubscribeByLink', security: [],
      summary: 'Unsubscribe link of a campaign: opts the contact out of the channel; no token needed, idempotent',
      querystring: z.object({ token: Token }).strict(), response: withProblems({ 200: UnsubscribeResult }),
    },
  }, async (req) => consent.unsubscribe(req.query.token, origin(req)));

  app.post('/unsubscribe', {
    config: open,
    schema: {
      tags, operationId: 'unsubscribe', security: [],
      summary: 'Unsubscribe (one-click POST of a campaign link): same as the GET; no token needed, idempotent',
      body: UnsubscribeInput, response: withProblems({ 200: UnsubscribeResult }),
    },
  }, async (req) => consent.unsubscribe(req.body.token, origin(req)));
};
