import type { FastifyReply, FastifyRequest } from 'fastify';
import { validationFailed } from '../errors/app-error.js';

/** `ETag: "<version>"` on every response carrying one record (API.md §5b). */
export function setEtag(reply: FastifyReply, record: { version?: number }): void {
  if (typeof record.version === 'number') reply.header('etag', `"${record.version}"`);
}

/** The version an `If-Match` header asks for; undefined when absent. `W/"3"` and `3` are accepted too. */
export function ifMatchVersion(request: FastifyRequest): number | undefined {
  const h = request.headers['if-match'];
  if (h === undefined || h === '*') return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,10})"?\s*$/.exec(h);
  if (!m?.[1]) throw validationFailed([{ path: 'If-Match', message: 'must be an ETag such as "3"' }]);
  return Number(m[1]);
}
