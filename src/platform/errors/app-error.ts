import { type ErrorCode, errorCodes } from './codes.js';

export interface FieldError {
  /** dotted path into the input: `email`, `custom.tier`, `records.3.email` */
  path: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  /** extra members of the problem body, e.g. `current` on a version conflict */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** A failure the caller can act on. Its code decides the HTTP status and the GraphQL code. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, detail?: string, options: AppErrorOptions = {}) {
    super(detail ?? errorCodes[code].title, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

export const notFound = (entity: string, extensions?: Record<string, unknown>) =>
  new AppError('not_found', `${entity} not found`, extensions ? { extensions } : {});

export const validationFailed = (errors: FieldError[], detail = 'The request is not valid') =>
  new AppError('validation_failed', detail, { errors });

export const forbidden = (detail = 'You may not do this') => new AppError('forbidden', detail);

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
