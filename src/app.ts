import Fastify, { type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import underPressure from '@fastify/under-pressure';
import qs from 'qs';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './platform/db/client.js';
import { openReadDatabase } from './platform/db/open.js';
import { redactPaths, serializeError, serializeRequest } from './platform/logger.js';
import { AppError } from './platform/errors/app-error.js';
import { frameworkErrorReply, restErrorsPlugin } from './platform/errors/rest.js';
import { rejectNulCharacters } from './platform/http/nul-guard.js';
import { securityHeadersPlugin } from './platform/http/security-headers.js';
import { authPlugin } from './platform/auth/authenticate.js';
import { zodFastSerializerCompiler } from './platform/http/serializer.js';
import { idempotencyPlugin } from './platform/http/idempotency.js';
import { metricsPlugin } from './platform/http/metrics.js';
import { rateLimitPlugin } from './platform/http/rate-limit.js';
import { type SharedRedis, connectRedis } from './platform/redis/client.js';
import { healthRoutes } from './platform/http/health.js';
import { openapiPlugin } from './platform/http/openapi.js';
import { registerGraphql } from './platform/graphql/index.js';
import { startSequencer } from './platform/events/sequencer.js';
import { sealAuditLog } from './platform/audit/chain.js';
import { createAuditService } from './platform/audit/audit.service.js';
import { auditRoutes } from './platform/audit/audit.routes.js';
import { customerModule } from './modules/customer/index.js';
import type { Module } from './platform/module.js';
import { identityModule } from './modules/identity/index.js';
import { pipelineModule } from './modules/pipeline/index.js';
import { integrationModule } from './modules/integration/index.js';
import { serviceModule } from './modules/service/index.js';
import { analyticsModule } from './modules/analytics/index.js';
import { marketingModule } from './modules/marketing/index.js';

export interface AppDeps {
  config: Config;
  database: Database;
  /** the signing key when config.jwt.secret is unset (development: server.ts keeps one in .data/) */
  jwtSecret?: string;
  /** tests turn the background sequencer off to observe the outbox deterministically */
  startWorkers?: boolean;
  /** create the first admin on a database with no users (server.ts; tests make their own users) */
  bootstrapAdmin?: boolean;
  /** where log lines go instead of stdout (tests capture them to prove nothing secret is logged) */
  logStream?: NodeJS.WritableStream;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
let requestCounter = 0;

/**
 * The feature modules, in registration order. Exported so the schema test can check every module's
 * resolvers against schema.graphql without starting a server.
 */
export function createModules(o: {
  config: Config;
  db: Database['db'];
  /** where analytics reads (DATABASE_READ_URL); the primary when absent */
  readDb?: Database['db'];
  signAccessToken: Parameters<typeof identityModule>[0]['signAccessToken'];
  redis?: SharedRedis | undefined;
}) {
  const identity = identityModule(o);
  const customer = customerModule({ config: o.config, db: o.db, users: identity.services.users });
  const pipeline = pipelineModule({ config: o.config, db: o.db, users: identity.services.users, customer: customer.services });
  const service = serviceModule({ config: o.config, db: o.db, users: identity.services.users, customer: customer.services });
  const marketing = marketingModule({
    config: o.config, db: o.db, customer: customer.services, pipeline: pipeline.services, service: service.services, users: identity.services.users,
    redis: o.redis,
  });
  const integration = integrationModule({
    config: o.config, db: o.db, customer: customer.services, pipeline: pipeline.services, service: service.services, marketing: marketing.services,
  });
  const analytics = analyticsModule({ config: o.config, db: o.readDb ?? o.db });
  const all: Module[] = [identity, customer, pipeline, service, marketing, integration, analytics];
  return { identity, customer, pipeline, service, marketing, integration, analytics, all };
}

/** Builds the whole service from a config and a database. No globals: tests build many side by side. */
export async function buildApp({ config, database, jwtSecret, startWorkers = true, bootstrapAdmin = false, logStream }: AppDeps): Promise<FastifyInstance> {
  const secret = config.jwt.secret ?? jwtSecret;
  if (!secret) throw new Error('JWT secret missing: set JWT_SECRET');
  const production = config.env === 'production';

  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { req: serializeRequest, err: serializeError },
      ...(logStream ? { stream: logStream } : process.stdout.isTTY && !production ? { transport: { target: 'pino-pretty' } } : {}),
    },
    // A caller's X-Request-Id is kept when it is safe to log and echo; otherwise we make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
      return `req-${Date.now().toString(36)}-${(requestCounter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    },
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorReply,
    forceCloseConnections: 'idle',
    routerOptions: {
      ignoreTrailingSlash: true,
      querystringParser: (s: string) => qs.parse(s, { depth: 2, parameterLimit: 200, arrayLimit: 0, allowPrototypes: false }),
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // shared state of several processes (docs/scale-out.md); closed after everything that uses it
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, config.redisKeyPrefix, app.log) : undefined;
  if (redis) app.addHook('onClose', async () => redis.close());
  // Once close() has begun, answers go out with Connection: close. Otherwise the keep-alive connection
  // of a request that was in flight stays open for keepAliveTimeout (72 s), holding close() — and the
  // pool's end after it — past the shutdown grace period.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('preValidation', rejectNulCharacters);
  // PATCH bodies may be sent as JSON merge patch (RFC 7396); both are read as JSON.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  await app.register(restErrorsPlugin);
  await app.register(securityHeadersPlugin, { helmet: { contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'same-site' } } });
  await app.register(cors, {
    origin: config.corsOrigins.length ? [...config.corsOrigins] : false,
    exposedHeaders: ['etag', 'location', 'x-request-id', 'retry-after', 'idempotent-replayed'],
    allowedHeaders: ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-request-id'],
    credentials: false,
  });
  await app.register(underPressure, {
    // Embedded PGlite runs its queries on this event loop, so the delay measures our own database
    // work; shedding on it would refuse the very requests being served (0 turns the check off).
    // Under NODE_ENV=test it is off too: on a loaded CI machine one stall of a second would turn every
    // request of the next sampling interval into a 503, failing tests about something else.
    maxEventLoopDelay: database.kind === 'pglite' || config.env === 'test' ? 0 : config.maxEventLoopDelayMs,
    retryAfter: 5,
    pressureHandler: (_req, _reply, type) => {
      throw new AppError('service_unavailable', `The server is overloaded (${type}); retry shortly`, { headers: { 'retry-after': '5' } });
    },
  });
  await app.register(metricsPlugin, { database, redis });
  // identity signs tokens with the auth plugin's key, and the auth plugin asks identity about API keys
  // Analytics reads from a replica when DATABASE_READ_URL is set: its long scans stay off the primary.
  const readDatabase = openReadDatabase(config, app.log);
  if (readDatabase) app.addHook('onClose', async () => readDatabase.close());
  const { identity, all: modules } = createModules({
    config, db: database.db, ...(readDatabase && { readDb: readDatabase.db }), signAccessToken: (claims) => app.jwt.sign(claims), redis,
  });
  await app.register(authPlugin, {
    secret,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    accessTokenTtl: config.jwt.accessTokenTtl,
    verifyApiKey: (key) => identity.verifyApiKey(key),
  });
  await app.register(rateLimitPlugin, { config, redis });
  await app.register(openapiPlugin);
  await app.register(async (platform) => {
    platform.setValidatorCompiler(validatorCompiler);
    platform.setSerializerCompiler(zodFastSerializerCompiler);
    await platform.register(healthRoutes, { database });
    for (const m of modules) if (m.publicRoutes) await platform.register(m.publicRoutes);
  });

  if (bootstrapAdmin) app.addHook('onReady', async () => void (await identity.ensureFirstAdmin(app.log)));

  // REST lives in its own scope: the zod compilers must not touch mercurius's routes (DESIGN.md).
  await app.register(
    async (v1) => {
      v1.setValidatorCompiler(validatorCompiler);
      v1.setSerializerCompiler(zodFastSerializerCompiler);
      // Fastify parses text/plain by default; a JSON API must answer it 415, not a 400 "expected object".
      v1.removeContentTypeParser('text/plain');
      await v1.register(idempotencyPlugin, { db: database.db });
      for (const m of modules) await v1.register(m.routes);
      await v1.register(auditRoutes, { audit: createAuditService({ db: database.db }) });
    },
    { prefix: '/v1' },
  );

  await registerGraphql(app, {
    modules: modules.map((m) => m.graphql),
    // WebSocket subscriptions may carry an API key in connectionParams, checked like the HTTP header
    verifyApiKey: (key) => identity.verifyApiKey(key),
    limits: {
      maxDepth: config.graphql.maxDepth,
      maxAliases: config.graphql.maxAliases,
      maxCost: config.graphql.maxCost,
      maxRootFields: 50,
      production,
    },
  });

  if (startWorkers) {
    const stops: (() => Promise<void>)[] = [];
    const warn = (what: string) => (err: unknown) => app.log.warn({ err: { message: (err as Error).message } }, `${what} failed; retrying`);
    app.addHook('onReady', async () => {
      stops.push(startSequencer(database.db, 200, warn('event sequencer')));
      stops.push(startSequencer(database.db, 1000, warn('audit sealer'), sealAuditLog));
      for (const w of modules.flatMap((m) => m.workers ?? [])) stops.push(startSequencer(database.db, w.intervalMs, warn(w.name), w.run));
    });
    // preClose, not onClose: the workers must stop before anyone's onClose ends the database pool.
    app.addHook('preClose', async () => void (await Promise.all(stops.map((s) => s()))));
  }

  return app;
}
