import { AppError } from '../errors/app-error.js';

// Admission control for heavy requests (1000-record batches). Each holds a pool connection for its
// whole transaction and a few hundred milliseconds of this process's one event loop at a time; fifty
// at once (issue #11's 100 k bench) exhausted the pool, so the background workers and every other
// request timed out on checkouts, and the event loop lagged for seconds: one batch finished in 50 s.
// A few run, a few wait their turn, and the rest are told at once to come back: 503 with Retry-After,
// which frees an Idempotency-Key for the retry (idempotency.ts).

export interface AdmissionOptions {
  /** what is admitted, for the error detail ("contact batches") */
  what: string;
  /** how many run at once */
  concurrency: number;
  /** how many may wait for a turn; one more is refused at once */
  queue: number;
  /** how long one waits for its turn before it is refused */
  maxWaitMs: number;
  retryAfterSeconds: number;
}

export interface AdmissionGate {
  run<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Throws the refusal run() would give now (every place taken, the queue full). For a door that can
   * refuse before reading the request: fifty clients resending refused 200 kB batches kept the event
   * loop busy parsing bodies only to refuse them.
   */
  assertRoom(): void;
  readonly running: number;
  readonly waiting: number;
}

export function admissionGate(o: AdmissionOptions): AdmissionGate {
  let running = 0;
  const waiters: (() => void)[] = [];
  const refuse = () =>
    new AppError('service_unavailable', `Too many ${o.what} at once; retry in ${o.retryAfterSeconds} s`, {
      headers: { 'retry-after': String(o.retryAfterSeconds) },
    });

  async function turn(): Promise<void> {
    if (running < o.concurrency) {
      running++;
      return;
    }
    assertRoom();
    await new Promise<void>((resolve, reject) => {
      const admit = () => {
        clearTimeout(timer);
        resolve(); // the finishing run hands its slot over: `running` stays as it is
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(admit), 1);
        reject(refuse());
      }, o.maxWaitMs);
      waiters.push(admit);
    });
  }

  function assertRoom(): void {
    if (running >= o.concurrency && waiters.length >= o.queue) throw refuse();
  }

  function leave(): void {
    const next = waiters.shift();
    if (next) next();
    else running--;
  }

  return {
    async run(work) {
      await turn();
      try {
        return await work();
      } finally {
        leave();
      }
    },
    assertRoom,
    get running() {
      return running;
    },
    get waiting() {
      return waiters.length;
    },
  };
}
