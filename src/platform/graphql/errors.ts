import { GraphQLError } from 'graphql';
import type { ExecutionResult } from 'graphql';
import { toProblem } from '../errors/problem.js';
import { AppError } from '../errors/app-error.js';

interface FormatContext {
  reply?: { request: { id: string }; log: { error: (o: unknown, m: string) => void }; header: (name: string, value: string) => unknown };
}

type ErrorLike = GraphQLError & { originalError?: (Error & { errors?: unknown[] }) | undefined };

/**
 * Gives every GraphQL error the extensions REST puts in its problem body: `code`, `status`,
 * `requestId`, `errors`. Parse, schema and variable errors carry `validation_failed`.
 * In production, "Did you mean …" suggestions are cut so the schema cannot be probed through them.
 */
export function graphqlErrorFormatter(production: boolean) {
  return (execution: ExecutionResult & { statusCode?: number }, ctx: FormatContext) => {
    const requestId = ctx.reply?.request.id ?? 'unknown';
    const flat: ErrorLike[] = [];
    for (const e of (execution.errors ?? []) as ErrorLike[]) {
      const inner = e.originalError?.errors;
      // mercurius wraps several validation errors in one; an AppError's `errors` are field errors, not that
      if (Array.isArray(inner) && !(e.originalError instanceof AppError)) flat.push(...(inner as ErrorLike[]));
      else flat.push(e);
    }
    let worst = 200;
    const errors = flat.map((e) => {
      const original = e.originalError;
      const isResolverError = original !== undefined && !(original instanceof GraphQLError);
      let extensions: Record<string, unknown>;
      let message = e.message;
      if (isResolverError) {
        const { problem, headers, unexpected } = toProblem(original, requestId);
        if (unexpected) ctx.reply?.log.error({ err: original }, 'unexpected error in resolver');
        // Retry-After of a 429 or 503 is an HTTP header on both doors, not only in REST
        for (const [name, value] of Object.entries(headers)) ctx.reply?.header(name, value);
        extensions = { code: problem.code, status: problem.status, requestId, ...(problem.errors ? { errors: problem.errors } : {}) };
        worst = Math.max(worst, problem.status);
        for (const k of ['current', 'mergedIntoId', 'results']) if (k in problem) extensions[k] = problem[k];
        message = problem.detail;
      } else {
        extensions = { code: 'validation_failed', status: 400, requestId };
        if (production) message = message.replace(/ ?Did you mean .*$/, '');
        worst = Math.max(worst, 400);
      }
      const json = e instanceof GraphQLError ? e.toJSON() : { message: String((e as { message?: unknown }).message) };
      return { ...json, message, extensions };
    });
    // With data, partial failures ride in `errors` under 200. A request that produced no data at all
    // (refused before execution, or unauthenticated) answers with the error's own HTTP status.
    const statusCode = execution.data ? 200 : worst;
    return { statusCode, response: { data: execution.data ?? null, errors } };
  };
}
