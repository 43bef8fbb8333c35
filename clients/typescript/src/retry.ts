export interface RetryOptions {
  /** attempts after the first; 0 turns retries off (default 3) */
  retries?: number;
  /** the first backoff in ms, doubled each attempt, with ±25 % jitter (default 250) */
  baseDelayMs?: number;
  /** the longest wait, also for a Retry-After (default 30 s) */
  maxDelayMs?: number;
}

/** Statuses that mean "not done, try again": the server freed any idempotency claim for a 5xx. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfterMs(response: Response): number | null {
  const value = response.headers.get('retry-after');
  if (!value) return null;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null;
}

/**
 * A POST is only safe to send again when it carries an Idempotency-Key (the server then replays
 * instead of writing twice); other methods are idempotent by HTTP's definition.
 */
const mayRetry = (request: Request) => request.method !== 'POST' || request.headers.has('idempotency-key');

/** Wraps fetch so that lost connections, 429 and 502–504 are retried with backoff, honouring Retry-After. */
export function retryingFetch(baseFetch: typeof fetch, o: RetryOptions = {}): (request: Request) => Promise<Response> {
  const retries = o.retries ?? 3;
  const base = o.baseDelayMs ?? 250;
  const max = o.maxDelayMs ?? 30_000;
  const backoff = (attempt: number) => Math.min(max, base * 2 ** attempt * (0.75 + Math.random() * 0.5));

  return async (request) => {
    const retryable = retries > 0 && mayRetry(request);
    for (let attempt = 0; ; attempt++) {
      // a Request body can be read once: send a copy, keep the original for the next attempt
      const copy = retryable ? request.clone() : request;
      let response: Response;
      try {
        response = await baseFetch(copy);
      } catch (err) {
        if (!retryable || attempt >= retries || request.signal.aborted) throw err;
        await sleep(backoff(attempt));
        continue;
      }
      if (!retryable || attempt >= retries || !RETRYABLE_STATUS.has(response.status)) return response;
      const wait = Math.min(max, retryAfterMs(response) ?? backoff(attempt));
      await response.body?.cancel();
      await sleep(wait);
    }
  };
}
