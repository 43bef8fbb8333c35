import type { components } from './generated/openapi.js';

/** An RFC 9457 problem as the CRM sends it (API.md §1): `code` is the stable machine code to branch on. */
export type Problem = components['schemas']['Problem'];

/** The codes API.md promises; others may be added, so `code` stays a string. */
export type ProblemCode =
  | 'validation_failed' | 'not_found' | 'version_conflict' | 'forbidden' | 'unauthenticated' | 'rate_limited'
  | 'idempotency_key_reused' | 'conflict' | 'payload_too_large' | 'unsupported_media_type' | 'service_unavailable'
  | 'insufficient_points' | (string & {});

/**
 * A non-2xx answer of the CRM. It carries the whole problem document, so a caller can read
 * `errors[]` (which field was wrong) or, on a 412, the current record the server sent back.
 */
export class CrmApiError extends Error {
  readonly status: number;
  readonly code: ProblemCode;
  readonly requestId: string | undefined;
  readonly problem: Problem;

  constructor(problem: Problem, readonly response: Response) {
    super(`${problem.status} ${problem.code}: ${problem.detail || problem.title}`);
    this.name = 'CrmApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.requestId = problem.requestId ?? response.headers.get('x-request-id') ?? undefined;
    this.problem = problem;
  }
}

const isProblem = (v: unknown): v is Problem =>
  typeof v === 'object' && v !== null && typeof (v as Problem).code === 'string' && typeof (v as Problem).status === 'number';

/** Turns whatever a failed response held into a CrmApiError; a body that is no problem document (a proxy's HTML page) still gets a status and a code. */
export function toCrmApiError(body: unknown, response: Response): CrmApiError {
  if (isProblem(body)) return new CrmApiError(body, response);
  const problem: Problem = {
    type: 'about:blank',
    title: response.statusText || 'HTTP error',
    status: response.status,
    detail: typeof body === 'string' ? body.slice(0, 500) : '',
    code: response.status >= 500 ? 'service_unavailable' : 'http_error',
    requestId: response.headers.get('x-request-id') ?? '',
  };
  return new CrmApiError(problem, response);
}

/** openapi-fetch answers `{ data, error, response }`; this returns `data` or throws the typed error, so call sites read straight. */
export async function unwrap<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) throw toCrmApiError(error, response);
  return data as T;
}
