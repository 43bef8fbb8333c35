import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../../config.js';
import { AppError } from '../errors/app-error.js';
import type { SharedRedis } from '../redis/client.js';
import { sharedRateLimitStore } from './rate-limit-store.js';

const OPEN = new Set(['/health', '/ready', '/metrics']);

/**
 * RATE_LIMIT_MAX requests per caller per RATE_LIMIT_WINDOW (429 `rate_limited` with Retry-After).
 * Counted in Redis when REDIS_URL is set, so every process of a deployment spends one budget.
 */
export const rateLimitPlugin = fp<{ config: Config; redis: SharedRedis | undefined }>(async (app, { config, redis }) => {
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowSeconds * 1000,
    hook: 'preHandler',
    // per caller once authenticated, so one integration cannot starve another behind the same NAT
    keyGenerator: (req) => (req.actor ? `${req.actor.type}:${req.actor.id}` : `ip:${req.ip}`),
    allowList: (req) => OPEN.has(req.url),
    errorResponseBuilder: (_req, ctx) =>
      new AppError('rate_limited', `Rate limit of ${ctx.max} requests per ${ctx.after} exceeded`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(ctx.ttl / 1000))) },
      }),
    ...(redis ? { store: sharedRateLimitStore(redis) } : {}),
  });
});
