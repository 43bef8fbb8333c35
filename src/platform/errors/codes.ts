// The ONE table of error codes. Every AppError code has exactly one HTTP status, and GraphQL
// carries the same code in extensions.code. Add a row here before using a new code anywhere.
export const errorCodes = {
  validation_failed: { status: 400, title: 'Validation failed' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  insufficient_points: { status: 409, title: 'Insufficient loyalty points' },
  version_conflict: { status: 412, title: 'Version conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with another request' },
  invalid_reference: { status: 422, title: 'Referenced record does not exist' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCodes;

export function statusOf(code: ErrorCode): number {
  return errorCodes[code].status;
}

/** The problem `type` URI of a code: stable, documented in docs/errors.md. */
export function typeOf(code: ErrorCode): string {
  return `https://headless-crm.dev/problems/${code.replaceAll('_', '-')}`;
}
