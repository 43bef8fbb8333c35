import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

// The machine's Redis (CI has one too): TEST_REDIS_URL, else redis://127.0.0.1:6379. Each test run
// gets a key prefix of its own, so test files running side by side never count into each other's
// limits, and removes its keys when done.

export const testRedisUrl = (): string => process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  /** a REDIS_KEY_PREFIX nobody else uses */
  prefix: string;
  /** a plain client to look at the keys the servers wrote */
  client: Redis;
  /** keys under this run's prefix */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

export async function connectTestRedis(): Promise<TestRedis> {
  const url = testRedisUrl();
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new Error(`these tests need Redis at ${url} (set TEST_REDIS_URL): ${(e as Error).message}`);
  }
  const prefix = `crm-test:${Date.now().toString(36)}-${randomBytes(4).toString('hex')}:`;
  const keys = async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found;
  };
  return {
    url,
    prefix,
    client,
    keys,
    async close() {
      const left = await keys();
      if (left.length) await client.del(...left);
      await client.quit();
    },
  };
}
