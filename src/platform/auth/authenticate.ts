import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { type Actor, type RequestContext, isRole } from './actor.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
  }
  interface FastifyContextConfig {
    /** routes under /v1 that need no token (login, refresh) */
    public?: boolean;
  }
}

export interface AuthOptions {
  secret: string;
  issuer: string;
  audience: string;
  accessTokenTtl: number;
  /** resolves `crm_…` API keys; the identity module provides it */
  verifyApiKey?: (key: string, request: FastifyRequest) => Promise<Actor | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AccessClaims {
  sub?: unknown;
  role?: unknown;
  teamIds?: unknown;
}

/** The actor of verified access-token claims, or undefined when they are not ours (HTTP and WebSocket alike). */
export function actorFromClaims(c: AccessClaims): Actor | undefined {
  if (typeof c.sub !== 'string' || !UUID.test(c.sub) || !isRole(c.role)) return undefined;
  const teamIds = Array.isArray(c.teamIds) && c.teamIds.every((t) => typeof t === 'string' && UUID.test(t)) ? c.teamIds : undefined;
  if (!teamIds) return undefined;
  return { type: 'user', id: c.sub, role: c.role, teamIds };
}

const unauthenticated = (detail: string) =>
  new AppError('unauthenticated', detail, { headers: { 'www-authenticate': 'Bearer realm="crm"' } });

/**
 * Sets request.actor for every /v1 route and /graphql from a bearer JWT (HS256 only, exp, iss and aud required)
 * or an API key. Anything else is a 401 — never a 5xx, whatever the token holds.
 */
export const authPlugin = fp<AuthOptions>(async (app, o) => {
  await app.register(fastifyJwt, {
    secret: o.secret,
    sign: { algorithm: 'HS256', iss: o.issuer, aud: o.audience, expiresIn: o.accessTokenTtl },
    verify: {
      algorithms: ['HS256'],
      allowedIss: o.issuer,
      allowedAud: o.audience,
      requiredClaims: ['exp', 'iss', 'aud', 'sub'],
      // A client sends the same access token with every request until it expires. Verifying it is a
      // pure function of the token and the clock, so fast-jwt keeps the verified claims (keyed by a
      // SHA-256 of the token, never past its exp) instead of decoding and checking the HMAC again.
      // Access tokens cannot be revoked before exp anyway (docs/security.md): nothing changes there.
      cache: 10_000,
      cacheTTL: 60_000,
    },
  });

  app.addHook('onRequest', async (request) => {
    const graphql = request.url === '/graphql' || request.url.startsWith('/graphql?');
    if (!(graphql || request.url.startsWith('/v1/')) || request.routeOptions.config?.public) return;
    const header = request.headers.authorization;
    // GraphQL without credentials goes on anonymously: its login/refresh mutations need no token, and
    // every other resolver refuses an anonymous caller (callerOf). Bad credentials are 401 everywhere.
    if (graphql && header === undefined) return;
    // the scheme is case-insensitive (RFC 9110 §11.1)
    const token = header && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
    if (!token) throw unauthenticated('Send Authorization: Bearer <access token or API key>');
    if (token.startsWith('crm_')) {
      const actor = o.verifyApiKey ? await o.verifyApiKey(token, request) : undefined;
      if (!actor) throw unauthenticated('The API key is not valid');
      request.actor = actor;
      return;
    }
    let claims: AccessClaims;
    try {
      // app.jwt.verify, not request.jwtVerify: the latter re-merges options, decodes the token a second
      // time and runs a callback waterfall per request, for the same global verifier in the end.
      claims = app.jwt.verify<AccessClaims>(token);
    } catch {
      throw unauthenticated('The access token is not valid or has expired');
    }
    const actor = actorFromClaims(claims);
    if (!actor) throw unauthenticated('The access token is not valid');
    request.actor = actor;
  });
});

/** The use-case context of a request. Only call it on authenticated routes. */
export function contextOf(request: FastifyRequest): RequestContext {
  if (!request.actor) throw unauthenticated('Authentication required');
  return { actor: request.actor, requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] };
}
