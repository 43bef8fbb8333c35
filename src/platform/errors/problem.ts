import { type ErrorCode, errorCodes, typeOf } from './codes.js';
import { AppError, type FieldError } from './app-error.js';
import { issuesToFieldErrors } from './field-errors.js';
import { translateDbError } from '../db/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface ProblemReply {
  problem: Problem;
  headers: Record<string, string>;
  /** true when the failure is ours (5xx other than a known outage): worth an error log */
  unexpected: boolean;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: unknown[];
  validationContext?: string;
  message?: string;
}

// Fastify's own failures that are the client's doing, mapped onto our codes.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_VALIDATION: 'validation_failed',
};

function fromFastify(e: FastifyLikeError): AppError | undefined {
  if (Array.isArray(e.validation)) {
    const errors = issuesToFieldErrors(e.validation as never);
    const where = e.validationContext === 'querystring' ? 'query string' : e.validationContext ?? 'request';
    return new AppError('validation_failed', `The ${where} is not valid`, { errors });
  }
  if (e instanceof SyntaxError || (e.code && FASTIFY_CODES[e.code])) {
    const code = (e.code && FASTIFY_CODES[e.code]) || 'validation_failed';
    const detail = code === 'validation_failed' ? `The body is not valid JSON: ${e.message}` : e.message ?? '';
    return new AppError(code, detail, code === 'validation_failed' ? { errors: [{ path: '(body)', message: e.message ?? 'malformed' }] } : {});
  }
  if (e.statusCode === 429) return new AppError('rate_limited', e.message);
  if (e.statusCode === 404) return new AppError('not_found', e.message);
  if (e.statusCode === 405) return new AppError('method_not_allowed', e.message);
  if (e.statusCode === 408 || e.code === 'FST_ERR_REQUEST_TIMEOUT') return new AppError('request_timeout');
  if (e.statusCode === 503) return new AppError('service_unavailable', e.message, { headers: { 'retry-after': '5' } });
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('validation_failed', e.message ?? 'Bad request', { errors: [] });
  }
  return undefined;
}

/** Any thrown value → the RFC 9457 problem the client sees. 5xx bodies never carry internals. */
export function toProblem(err: unknown, requestId: string): ProblemReply {
  const known = err instanceof AppError ? err : translateDbError(err) ?? fromFastify((err ?? {}) as FastifyLikeError);
  const app = known ?? new AppError('internal_error', 'Something went wrong on our side; quote the requestId when reporting it');
  const problem: Problem = {
    type: typeOf(app.code),
    title: errorCodes[app.code].title,
    status: app.status,
    detail: app.message,
    code: app.code,
    requestId,
    ...(app.code === 'validation_failed' ? { errors: app.errors ?? [] } : app.errors?.length ? { errors: app.errors } : {}),
    ...app.extensions,
  };
  const headers: Record<string, string> = { ...app.headers };
  if ((app.status === 503 || app.status === 429) && !headers['retry-after']) headers['retry-after'] = '5';
  return { problem, headers, unexpected: !known };
}
