import { AppError } from '../errors/app-error.js';

interface PgLikeError {
  code?: string;
  message?: string;
  detail?: string;
  constraint?: string;
  column?: string;
}

/** Drizzle wraps driver errors; the Postgres fields live on the innermost cause. */
export function driverError(e: unknown): PgLikeError | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const c = cur as PgLikeError & { cause?: unknown };
    if (typeof c.code === 'string') return c;
    cur = c.cause;
  }
  return undefined;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57014', // query_canceled (statement_timeout): the database is too busy to answer in time
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'timeout expired', // pg.Client connect timeout (connectionTimeoutMillis) outside a pool
  'Query read timeout', // pg's query_timeout
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'Connection refused',
];

/** True when the failure means "the database is not answering", not "the request is wrong". */
export function isDatabaseUnavailable(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const c = cur as PgLikeError & { cause?: unknown; errors?: unknown[] };
    if (c.code && (UNAVAILABLE_CODES.has(c.code) || c.code.startsWith('08'))) return true;
    if (c.message && UNAVAILABLE_MESSAGES.some((m) => c.message!.includes(m))) return true;
    // node's AggregateError (IPv4 + IPv6 both refused) keeps the reasons in `errors`
    if (Array.isArray(c.errors) && c.errors.some((x) => isDatabaseUnavailable(x))) return true;
    cur = c.cause;
  }
  return false;
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());

/** Columns named in "Key (a, lower(b))=(…) already exists." */
function keyColumns(detail: string | undefined): string[] {
  const m = detail?.match(/^Key \((.+?)\)=/);
  if (!m?.[1]) return [];
  // a unique custom field's index is on (custom ->> 'key'): report it as the dotted path custom.key
  const custom = m[1].match(/^\(?custom ->> '([a-z][a-z0-9_]*)'/);
  if (custom) return [`custom.${custom[1]}`];
  return m[1].split(',').map((s) => camel(s.trim().replace(/^\w+\((.+)\)$/, '$1').replace(/[()"]/g, '')));
}

/**
 * Translates a Postgres error into the AppError the caller should see, or returns undefined when it
 * is not one the client caused (those stay 5xx, or 503 when the database is away).
 */
export function translateDbError(e: unknown): AppError | undefined {
  if (isDatabaseUnavailable(e)) {
    return new AppError('service_unavailable', 'The database is not answering; try again shortly', {
      headers: { 'retry-after': '2' },
      cause: e,
    });
  }
  const pe = driverError(e);
  switch (pe?.code) {
    case '23505': {
      const cols = keyColumns(pe.detail);
      return new AppError('conflict', 'A record with the same unique value already exists', {
        errors: cols.map((c) => ({ path: c, message: 'is already taken' })),
        cause: e,
      });
    }
    case '23503': {
      const cols = keyColumns(pe.detail);
      const stillReferenced = pe.detail?.includes('is still referenced');
      return stillReferenced
        ? new AppError('conflict', 'The record is still referenced by other records', { cause: e })
        : new AppError('invalid_reference', 'A referenced record does not exist', {
            errors: cols.map((c) => ({ path: c, message: 'does not reference an existing record' })),
            cause: e,
          });
    }
    case '23502':
      return new AppError('validation_failed', 'A required value is missing', {
        errors: pe.column ? [{ path: camel(pe.column), message: 'is required' }] : [],
        cause: e,
      });
    case '23514':
    case '22001':
    case '22003':
    case '22P02':
      return new AppError('validation_failed', 'A value is out of range or malformed', { errors: [], cause: e });
    // NUL in text ("invalid byte sequence … 0x00") or \u0000 in jsonb: PostgreSQL stores neither
    case '22021':
    case '22P05':
      return new AppError('validation_failed', 'Text must not contain the NUL character (\\u0000)', { errors: [], cause: e });
    default:
      return undefined;
  }
}
