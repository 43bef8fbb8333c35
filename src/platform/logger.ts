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
