import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/client.js';
import { outboxLag } from '../events/sequencer.js';
import type { SharedRedis } from '../redis/client.js';

/** Prometheus metrics at GET /metrics: request durations by route and status, pool usage, outbox lag. */
export const metricsPlugin = fp<{ database: Database; redis?: SharedRedis | undefined }>(async (app, { database, redis }) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const dbErrors = new Counter({ name: 'db_unavailable_total', help: 'Requests answered 503 because the database was away', registers: [registry] });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = database.stats();
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'waiting' }, s.waiting);
    },
  });
  new Gauge({
    name: 'outbox_pending_events',
    help: 'Committed events not yet numbered into the feed',
    registers: [registry],
    async collect() {
      this.set(await outboxLag(database.db).then((l) => l.pending, () => -1));
    },
  });
  new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest event not yet numbered into the feed',
    registers: [registry],
    async collect() {
      this.set(await outboxLag(database.db).then((l) => l.oldestPendingSeconds, () => -1));
    },
  });

  if (redis) {
    // 0 while limits are counted per process (docs/scale-out.md): worth an alert with N processes
    new Gauge({
      name: 'redis_connected',
      help: 'Whether the shared Redis (REDIS_URL) is connected: 1, or 0 while limits fall back to per-process counts',
      registers: [registry],
      collect() {
        this.set(redis.client.status === 'ready' ? 1 : 0);
      },
    });
  }

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    durations.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (reply.statusCode === 503) dbErrors.inc();
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
});
