import type { SharedRedis } from './client.js';

// A pace: at most `ratePerSecond` actions per second, each action asking first how long to wait.
// The slot schedule is "the next free slot, or now if it has passed; the one after is a gap later",
// kept in this process or, with Redis, in one key that every process of a deployment shares, so N
// processes together keep the rate instead of N times it.

export interface Pace {
  /** reserves the next slot; answers the milliseconds to wait before acting in it */
  reserve(): Promise<number>;
}

/** One process's own schedule. */
export function localPace(ratePerSecond: number, now: () => number = () => performance.now()): Pace {
  const gapMs = 1000 / ratePerSecond;
  let free = -Infinity;
  return {
    async reserve() {
      const t = now();
      const slot = Math.max(t, free);
      free = slot + gapMs;
      return slot - t;
    },
  };
}

// Microseconds on Redis's own clock, so processes on machines whose clocks differ still share one
// schedule. The key expires a second after its last slot: an idle pace starts afresh.
const RESERVE = `
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local gap = tonumber(ARGV[1])
  local free = tonumber(redis.call('GET', KEYS[1]) or '0')
  local slot = math.max(now, free)
  redis.call('SET', KEYS[1], string.format('%d', slot + gap), 'PX', math.ceil((slot + gap - now) / 1000) + 1000)
  return {string.format('%d', slot), string.format('%d', now)}
`;

type WithReserve = SharedRedis['client'] & {
  paceReserve(key: string, gapMicros: number, cb: (err: Error | null, r?: [string, string]) => void): void;
};

/** The slot a shared pace handed out, on Redis's clock (tests check the schedule with it). */
export interface SharedSlot { slotMicros: bigint; nowMicros: bigint }

/**
 * A pace shared through Redis under `<prefix>pace:<name>`. While Redis is away it keeps this
 * process's own pace instead (SharedRedis logs the outage), so the rate holds per process.
 */
export function sharedPace(redis: SharedRedis, name: string, ratePerSecond: number): Pace & { reserveSlot(): Promise<SharedSlot> } {
  const client = redis.client as WithReserve;
  if (!client.paceReserve) client.defineCommand('paceReserve', { numberOfKeys: 1, lua: RESERVE });
  const key = `${redis.prefix}pace:${name}`;
  const gapMicros = Math.max(1, Math.round(1_000_000 / ratePerSecond));
  const fallback = localPace(ratePerSecond);
  const reserveSlot = () => new Promise<SharedSlot>((resolve, reject) => {
    client.paceReserve(key, gapMicros, (err, r) => (err || !r ? reject(err ?? new Error('no answer')) : resolve({ slotMicros: BigInt(r[0]), nowMicros: BigInt(r[1]) })));
  });
  return {
    reserveSlot,
    async reserve() {
      try {
        const { slotMicros, nowMicros } = await reserveSlot();
        redis.succeeded();
        return Number(slotMicros - nowMicros) / 1000;
      } catch (e) {
        redis.failed(e);
        return fallback.reserve();
      }
    },
  };
}
