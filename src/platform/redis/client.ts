import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

// The one Redis connection of a server process (REDIS_URL), for what several processes must share:
// rate-limit counters and the campaign send pace. Redis is a helper, never a dependency of
// correctness: while it is away every user of it falls back to counting in this process (see
// docs/scale-out.md), and this file logs the outage once and its end once.

export interface SharedRedis {
  readonly client: Redis;
  /** prepended to every key, so several deployments (or test runs) can share one Redis */
  readonly prefix: string;
  /** a user of Redis saw a command fail and fell back to local counting */
  failed(err: unknown): void;
  /** a command succeeded: ends an outage that the connection itself did not report */
  succeeded(): void;
  close(): Promise<void>;
}

/** How long start-up waits for the first connection before serving with local counts. */
const CONNECT_WAIT_MS = 2000;

export async function connectRedis(url: string, prefix: string, log: Logger): Promise<SharedRedis> {
  // loaded on first use (~90 ms of CPU): only a process with REDIS_URL set connects to Redis
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    connectTimeout: 1000,
    // a command while disconnected fails at once instead of queueing: a request must not wait for
    // Redis to come back, it falls back to local counting
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // a Redis that accepts connections but hangs must not hang requests either
    commandTimeout: 1000,
  });
  let degraded = false;
  const failed = (err: unknown) => {
    if (degraded) return;
    degraded = true;
    log.warn({ err: { message: (err as Error)?.message ?? String(err) } }, 'Redis unreachable: rate limits and the campaign send pace are counted per process until it is back');
  };
  const succeeded = () => {
    if (!degraded) return;
    degraded = false;
    log.info('Redis reachable again: rate limits and the campaign send pace are shared again');
  };
  // ioredis reconnects by itself (backoff up to 2 s); these only report it
  client.on('error', failed);
  client.on('ready', succeeded);

  // not events.once: it rejects on the first 'error', and a refused first attempt is no reason to stop
  const ready = new Promise<boolean>((resolve) => client.once('ready', () => resolve(true)));
  const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, CONNECT_WAIT_MS, false).unref());
  if (!(await Promise.race([ready, timeout]))) failed(new Error(`no connection to Redis within ${CONNECT_WAIT_MS} ms`));

  return {
    client,
    prefix,
    failed,
    succeeded,
    async close() {
      client.removeListener('error', failed);
      client.on('error', () => undefined); // the closing connection's last errors are of no interest
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}
