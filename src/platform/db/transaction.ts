import type { Executor } from './client.js';
import { driverError } from './errors.js';

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

/**
 * Runs `fn` in a transaction, retrying it from scratch on serialization failures and deadlocks
 * (Postgres asks us to). `fn` must therefore do nothing outside the database it can't repeat.
 */
export async function inTransaction<T>(db: Executor, fn: (tx: Executor) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => fn(tx as unknown as Executor));
    } catch (e) {
      const code = driverError(e)?.code;
      if (attempt >= attempts || !code || !RETRYABLE.has(code)) throw e;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
    }
  }
}
