import type { FastifyBaseLogger } from 'fastify';

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
