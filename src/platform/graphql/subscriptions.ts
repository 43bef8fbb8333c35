import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type ASTVisitor, type DocumentNode, GraphQLError, type GraphQLSchema, type ValidationContext, type ValidationRule,
  specifiedRules, validate,
} from 'graphql';
import { toProblem } from '../errors/problem.js';
import type { Actor, RequestContext } from '../auth/actor.js';
import { actorFromClaims, contextOf } from '../auth/authenticate.js';

// GraphQL subscriptions over WebSocket on /graphql (mercurius speaks both graphql-transport-ws and the
// older graphql-ws). The caller is known before any subscription starts: the upgrade request's
// Authorization header (checked by the auth hook like any request, a bad one is a 401 at the upgrade)
// or, for clients that cannot set headers (browsers), `connectionParams: {authorization: "Bearer …"}`
// in connection_init. No valid credentials: the connection is refused (connection_error, then closed).


/** Close code of graphql-transport-ws for "Unauthorized": the access token ran out while connected. */
export const WS_TOKEN_EXPIRED = 4401;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SubscriptionAuthOptions {
  /** resolves `crm_…` API keys sent in connectionParams; without it they go in the upgrade's header only */
  verifyApiKey?: ((key: string) => Promise<Actor | undefined>) | undefined;
}

interface Claims { sub?: unknown; role?: unknown; teamIds?: unknown; exp?: unknown }

/** `Authorization` from connectionParams: `{authorization}`, `{Authorization}` or `{headers: {authorization}}`. */
function authorizationOf(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  const headers = typeof p.headers === 'object' && p.headers !== null ? (p.headers as Record<string, unknown>) : {};
  const v = p.authorization ?? p.Authorization ?? headers.authorization ?? headers.Authorization;
  return v === undefined ? undefined : String(v);
}

interface Verified { actor: Actor; expiresAt?: number | undefined }

async function verifyBearer(app: FastifyInstance, header: string, o: SubscriptionAuthOptions): Promise<Verified | undefined> {
  const token = /^bearer /i.test(header) ? header.slice(7).trim() : '';
  if (!token) return undefined;
  if (token.startsWith('crm_')) {
    const actor = o.verifyApiKey ? await o.verifyApiKey(token) : undefined;
    return actor ? { actor } : undefined;
  }
  let claims: Claims;
  try {
    // the plugin's verifier: HS256 only, exp, iss and aud required, exactly as for HTTP
    claims = app.jwt.verify<Claims>(token);
  } catch {
    return undefined;
  }
  const actor = actorFromClaims(claims);
  return actor ? { actor, expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined } : undefined;
}

interface Connection {
  context?: { request?: FastifyRequest };
  socket?: { close(code?: number, reason?: string): void; once(event: 'close', f: () => void): void };
}

/** A connection outlives its access token by nothing: it is closed (4401) when the token expires. */
function closeAtExpiry(conn: Connection, expiresAt: number | undefined): void {
  if (expiresAt === undefined || !conn.socket) return;
  const socket = conn.socket;
  const timer = setTimeout(() => socket.close(WS_TOKEN_EXPIRED, 'access token expired'), Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_MS));
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * The `subscription` option of mercurius. mercurius calls onConnect as a method of the connection
 * (lib/subscription-connection.js: `this.onConnect(data)`), which is how the upgrade request is reached;
 * without it a connection lacking connectionParams credentials is refused (fails closed).
 */
export function subscriptionOptions(app: FastifyInstance, o: SubscriptionAuthOptions) {
  return {
    keepAlive: 30_000,
    async onConnect(this: Connection | undefined, data: { payload?: unknown }): Promise<false | { requestContext: RequestContext }> {
      const request = this?.context?.request;
      const given = authorizationOf(data.payload);
      let verified: Verified | undefined;
      let ctx: RequestContext | undefined;
      if (given !== undefined) {
        verified = await verifyBearer(app, given, o);
        if (verified) {
          ctx = { actor: verified.actor, requestId: request?.id ?? `ws-${randomUUID()}`, ip: request?.ip, userAgent: request?.headers['user-agent'] };
        }
      } else if (request?.actor) {
        ctx = contextOf(request);
        const exp = (request as FastifyRequest & { user?: { exp?: unknown } }).user?.exp;
        verified = { actor: request.actor, expiresAt: typeof exp === 'number' ? exp * 1000 : undefined };
      }
      if (!ctx || !verified) return false;
      if (this) closeAtExpiry(this, verified.expiresAt);
      return { requestContext: ctx };
    },
  };
}

/** Over HTTP a subscription has nowhere to send its events: refused as a validation error. */
export const subscriptionsOverWebSocketOnly: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    if (node.operation === 'subscription') {
      context.reportError(new GraphQLError('Subscriptions need a WebSocket: connect to /graphql with graphql-transport-ws', { nodes: [node] }));
    }
  },
});

/**
 * mercurius runs no validation at all on a subscription (graphql's subscribe() does not validate), so
 * the schema rules and the depth, cost and alias limits are applied here before it starts.
 */
export function validateSubscription(rules: readonly ValidationRule[]) {
  return async (schema: GraphQLSchema, document: DocumentNode): Promise<void> => {
    let errors: readonly GraphQLError[];
    try {
      errors = validate(schema, document, [...specifiedRules, ...rules]);
    } catch (e) {
      // graphql-armor's rules throw their rejection instead of reporting it
      if (!(e instanceof GraphQLError)) throw e;
      errors = [e];
    }
    const first = errors[0];
    if (!first) return;
    throw new GraphQLError(first.message, {
      nodes: first.nodes ?? null,
      extensions: { code: 'validation_failed', status: 400, errors: errors.map((e) => ({ path: 'query', message: e.message })) },
    });
  };
}

/** An error of a subscription's setup with the same extensions a query's error gets (code, status, errors). */
export function subscriptionError(e: unknown): GraphQLError {
  if (e instanceof GraphQLError) return e;
  const { problem } = toProblem(e, 'subscription');
  return new GraphQLError(problem.detail, {
    extensions: { code: problem.code, status: problem.status, ...(problem.errors ? { errors: problem.errors } : {}) },
  });
}
