import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { SharedRedis } from '../redis/client.js';

// A rate-limit store for several processes: @fastify/rate-limit's own Redis store (one counter per
// key in Redis, so N processes spend one budget), with the plugin's in-process store behind it.
// While Redis is away a request is counted in this process instead: limits still hold, per process
// (N × RATE_LIMIT_MAX in all), rather than not at all (skipOnError) or every request failing (503).

// The plugin's stores are not exported by its entry point; they are its public files nonetheless.
const require = createRequire(import.meta.url);
type StoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, ...rest: unknown[]) => FastifyRateLimitStore & ReadableStore;
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreCtor;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor;

type Result = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Result) => void;
interface ReadableStore {
  read?(key: string, cb: Callback, timeWindow: number, max: number): void;
}
type Store = FastifyRateLimitStore & ReadableStore;

class RedisWithLocalFallback implements Store {
  constructor(
    private readonly shared: Store,
    private readonly local: Store,
    private readonly redis: SharedRedis,
  ) {}

  private either(method: 'incr' | 'read', key: string, cb: Callback, timeWindow: number, max: number): void {
    const viaRedis = this.shared[method] as Store['incr'];
    viaRedis.call(this.shared, key, (err, res) => {
      if (!err) {
        this.redis.succeeded();
        return cb(null, res);
      }
      this.redis.failed(err);
      (this.local[method] as Store['incr']).call(this.local, key, cb, timeWindow, max);
    }, timeWindow, max);
  }

  incr(key: string, cb: Callback, timeWindow: number, max: number): void {
    this.either('incr', key, cb, timeWindow, max);
  }

  read(key: string, cb: Callback, timeWindow: number, max: number): void {
    this.either('read', key, cb, timeWindow, max);
  }

  child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): Store {
    return new RedisWithLocalFallback(this.shared.child(routeOptions), this.local.child(routeOptions), this.redis);
  }
}

/** The `store` option of @fastify/rate-limit: counters in Redis under `<prefix>rate-limit:`. */
export function sharedRateLimitStore(redis: SharedRedis): FastifyRateLimitStoreCtor {
  return class {
    constructor(o: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      const continueExceeding = o.continueExceeding ?? false;
      const exponentialBackoff = o.exponentialBackoff ?? false;
      return new RedisWithLocalFallback(
        new RedisStore(continueExceeding, exponentialBackoff, redis.client, `${redis.prefix}rate-limit:`),
        new LocalStore(continueExceeding, exponentialBackoff),
        redis,
      );
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
