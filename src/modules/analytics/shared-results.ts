// Two guards for the dashboard summary (docs/metrics.md "KPIs"), which runs some twenty figures per
// call: a limit on how many of its statements run at once in this process, so concurrent dashboards
// queue here instead of taking the whole database pool from the rest of the API; and a short-lived
// per-process cache of finished summaries, so twenty dashboards refreshing together compute once.

/** Runs at most `max` tasks at a time; the others wait their turn in arrival order. */
export function createLimiter(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) next();
  };
  return async function limited<T>(task: () => Promise<T>): Promise<T> {
    if (running >= max) await new Promise<void>((resume) => waiting.push(resume));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}

export interface Cached<T> {
  value: T;
  /** when the computation started: the figures hold every record written before this instant */
  asOf: Date;
  /** seconds the value may still be served */
  remainingSeconds: number;
}

/**
 * Results by key for `ttlMs`, computed once per key however many callers ask at the same time (they
 * share the pending computation). A failed computation is not kept. At most `maxEntries` keys; the
 * oldest go first.
 */
export function createResultCache<T>(ttlMs: number, maxEntries = 500, now: () => number = Date.now) {
  const entries = new Map<string, { at: number; value: Promise<T> }>();
  return async function cached(key: string, compute: () => Promise<T>): Promise<Cached<T>> {
    const t = now();
    let entry = entries.get(key);
    if (!entry || t - entry.at >= ttlMs) {
      entries.delete(key);
      entry = { at: t, value: compute() };
      entries.set(key, entry);
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
      const mine = entry;
      mine.value.catch(() => { if (entries.get(key) === mine) entries.delete(key); });
    }
    const value = await entry.value;
    return { value, asOf: new Date(entry.at), remainingSeconds: Math.max(0, Math.ceil((entry.at + ttlMs - now()) / 1000)) };
  };
}
