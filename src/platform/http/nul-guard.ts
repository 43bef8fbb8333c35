import type { FastifyRequest } from 'fastify';
import { type FieldError, validationFailed } from '../errors/app-error.js';

// PostgreSQL cannot store the NUL character in text or jsonb: a string carrying one would fail deep
// in a query as a 500. Refusing it up front names the field, like any other validation error.
// GraphQL answers in its own error format, so /graphql is left to the database translation
// (db/errors.ts turns the same failure into validation_failed there).

const MAX_DEPTH = 32;

function collectNul(value: unknown, path: string, out: FieldError[], depth = 0): void {
  if (out.length >= 20 || depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ path: path || '(body)', message: 'must not contain the NUL character (\\u0000)' });
    return;
  }
  // parsed JSON and query strings only: a streamed body (imports) is not walked
  if (!value || typeof value !== 'object') return;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000')) out.push({ path: path ? `${path}.${k.replaceAll('\u0000', '')}` : k.replaceAll('\u0000', ''), message: 'must not contain the NUL character (\\u0000)' });
    collectNul(v, path ? `${path}.${k}` : k, out, depth + 1);
  }
}

export async function rejectNulCharacters(request: FastifyRequest): Promise<void> {
  if (request.url.startsWith('/graphql')) return;
  const errors: FieldError[] = [];
  collectNul(request.query, '', errors);
  collectNul(request.params, '', errors);
  collectNul(request.body, '', errors);
  if (errors.length) throw validationFailed(errors);
}
