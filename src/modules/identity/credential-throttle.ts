import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors/app-error.js';

// Sign-in, refresh and logout are where credentials are guessed, so each caller IP gets a small
// budget per minute for each of them — on top of the per-account and per-IP failure counts the
// auth service keeps in the database. The budget is counted per operation, not per HTTP request:
// one GraphQL request carrying thirty aliased `login` fields spends thirty, and REST and GraphQL
// draw on the same budget, so neither door is a way around the other.

export type CredentialOperation = 'login' | 'refresh' | 'logout';

export const CREDENTIAL_CALLS_PER_MINUTE = 30;

type Limiter = ReturnType<FastifyRequest['server']['createRateLimit']>;

/** One per app: the limiters are made on first use from @fastify/rate-limit's store (memory or Redis). */
export function createCredentialThrottle() {
  const limiters = new Map<CredentialOperation, Limiter>();
  return async function spend(operation: CredentialOperation, request: FastifyRequest): Promise<void> {
    let limiter = limiters.get(operation);
    if (!limiter) {
      limiter = request.server.createRateLimit({
        max: CREDENTIAL_CALLS_PER_MINUTE,
        timeWindow: 60_000,
        keyGenerator: (req) => `credentials:${operation}:${req.ip}`,
      });
      limiters.set(operation, limiter);
    }
    const outcome = await limiter(request);
    if (!outcome.isAllowed && outcome.isExceeded) {
      throw new AppError('rate_limited', `At most ${CREDENTIAL_CALLS_PER_MINUTE} ${operation} calls a minute from one address`, {
        headers: { 'retry-after': String(Math.max(1, outcome.ttlInSeconds)) },
      });
    }
  };
}

export type CredentialThrottle = ReturnType<typeof createCredentialThrottle>;
