import type { FastifyBaseLogger, FastifyRequest } from 'fastify';

export type Logger = FastifyBaseLogger;

/**
 * Paths pino blanks in every log line: credentials, tokens and the personal data a request body
 * may carry. Bodies are not logged by default; these guard the places that do log objects.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  // top-level keys of a log call's object, and one level down
  'password',
  'email',
  'phone',
  'token',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.accessToken',
  '*.refreshToken',
  '*.token',
  '*.secret',
  '*.key',
  '*.email',
  '*.phone',
  'body.*.email',
  'body.*.phone',
];

// Query-string parameters whose values may be credentials or personal data. GraphQL over GET carries
// the whole operation and its variables (a login's password) in the URL, and some clients send tokens
// there; searches (`q`) and filters look people up by their name, email or phone.
const MASKED_PARAM = /^(query|variables|extensions|q)$|^filter\[|pass|token|secret|key|auth|sig|email|phone/i;

/** The URL as logged: the values of credential- and person-bearing query parameters masked. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try {
      name = decodeURIComponent(name);
    } catch {
      // a malformed escape: test the raw name
    }
    return MASKED_PARAM.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/** Fastify's own request serializer, with the URL masked. */
export function serializeRequest(req: FastifyRequest) {
  return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

// A failed query's error (drizzle's "Failed query: <sql>\nparams: <values>", and pg's detail such as
// "Key (email)=(…) already exists") carries the row's values: emails, phones, names. Logs keep the
// statement and the error class, never the values.
const QUERY_PARAMS = /\nparams: [\s\S]*$/;
const KEY_DETAIL = /\)=\([\s\S]*?\)( already exists| is not present)/g;

function scrubText(text: string): string {
  return text.replace(QUERY_PARAMS, '\nparams: [redacted]').replace(KEY_DETAIL, ')=([redacted])$1');
}

export interface LoggedError { type: string; message: string; stack: string; [field: string]: unknown }

/** pino's error shape, with the values of failed queries cut out of message, stack and detail, causes included. */
export function serializeError(err: Error, depth = 0): LoggedError {
  const e = err as Error & { detail?: unknown; cause?: unknown; code?: unknown };
  return {
    type: e.constructor?.name ?? 'Error',
    message: scrubText(String(e.message)),
    stack: scrubText(String(e.stack ?? '')),
    ...(e.code !== undefined && { code: e.code }),
    ...(typeof e.detail === 'string' && { detail: scrubText(e.detail) }),
    ...(e.cause instanceof Error && depth < 3 && { cause: serializeError(e.cause, depth + 1) }),
  };
}
