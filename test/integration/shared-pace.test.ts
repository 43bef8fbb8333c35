import t from 'tap';
import type { Logger } from '../../src/platform/logger.js';
import { connectRedis } from '../../src/platform/redis/client.js';
import { localPace, sharedPace } from '../../src/platform/redis/pace.js';
import { connectTestRedis } from '../helpers/redis.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

// The campaign send pace (CAMPAIGN_SEND_RATE) shared through Redis: two connections stand for two
// server processes. What is checked is the schedule of slots Redis hands out, not how long anything took.

const redis = await connectTestRedis();
t.teardown(() => redis.close());

function quietLog() {
  const lines: { level: 'warn' | 'info'; msg: string }[] = [];
  const log = {
    warn: (_o: unknown, msg: string) => lines.push({ level: 'warn', msg }),
    info: (msg: string) => lines.push({ level: 'info', msg }),
  } as unknown as Logger;
  return { log, lines };
}

t.test('two processes sharing a pace get slots one gap apart, as one process would', async (t) => {
  const one = await connectRedis(redis.url, redis.prefix, quietLog().log);
  const two = await connectRedis(redis.url, redis.prefix, quietLog().log);
  t.teardown(async () => {
    await one.close();
    await two.close();
  });
  const RATE = 1; // a second apart: the six reservations below come much faster than that
  const paces = [sharedPace(one, 'campaign-send', RATE), sharedPace(two, 'campaign-send', RATE)];
  const slots: bigint[] = [];
  for (let i = 0; i < 6; i++) slots.push((await (paces[i % 2] as (typeof paces)[0]).reserveSlot()).slotMicros);
  const gaps = slots.slice(1).map((s, i) => s - (slots[i] as bigint));
  t.ok(gaps.every((g) => g >= 1_000_000n), `each slot is at least 1 s after the one before, whichever process took it (${gaps.join(', ')} µs)`);
  t.ok(await redis.client.exists(`${redis.prefix}pace:campaign-send`), 'the schedule is one key under REDIS_KEY_PREFIX');
  const wait = await (paces[0] as (typeof paces)[0]).reserve();
  t.ok(wait > 5000, `the next reservation waits behind the six before it (${Math.round(wait)} ms)`);
});

t.test('with Redis away, a shared pace keeps this process\'s own schedule and says so once', async (t) => {
  const proxy = await startTcpProxy({ host: new URL(redis.url).hostname, port: Number(new URL(redis.url).port || 6379) });
  const { log, lines } = quietLog();
  const shared = await connectRedis(`redis://127.0.0.1:${proxy.port}`, redis.prefix, log);
  t.teardown(async () => {
    await shared.close();
    await proxy.stop();
  });
  await proxy.stop();
  const pace = sharedPace(shared, 'fallback', 1);
  const waits = [await pace.reserve(), await pace.reserve(), await pace.reserve()];
  t.equal(waits[0], 0, 'the first send may go at once');
  t.ok((waits[1] as number) > 900 && (waits[2] as number) > 1900, `the next ones are spaced by the process's own schedule (${waits.map(Math.round).join(', ')} ms)`);
  t.equal(lines.filter((l) => l.level === 'warn').length, 1, 'the outage is logged once');
});

t.test('a local pace spaces its own slots', async (t) => {
  let clock = 0;
  const pace = localPace(4, () => clock);
  t.same([await pace.reserve(), await pace.reserve(), await pace.reserve()], [0, 250, 500], 'a quarter second apart at 4 per second');
  clock = 10_000;
  t.equal(await pace.reserve(), 0, 'after a pause the next one goes at once');
});
