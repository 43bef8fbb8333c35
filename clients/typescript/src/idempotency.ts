import type { Middleware } from 'openapi-fetch';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** A fresh key: a random UUID, well inside the 255 characters the server takes (API.md §3). */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * Gives every POST an Idempotency-Key unless the caller set one. The key is set on the request
 * before the retrying fetch sees it, so every retry of that request carries the same key and the
 * server replays its first answer instead of writing twice.
 */
export const idempotencyMiddleware: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'POST' || request.headers.has(IDEMPOTENCY_HEADER)) return undefined;
    request.headers.set(IDEMPOTENCY_HEADER, newIdempotencyKey());
    return request;
  },
};
