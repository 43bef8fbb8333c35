import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem.js';
import { serializeError } from '../logger.js';

const scrubbedMessage = (err: unknown) => (err instanceof Error ? serializeError(err).message : String(err));

/**
 * Fastify's `frameworkErrors`: failures the router meets before any hook runs (a path segment over
 * the parameter length limit, a malformed URL). Without it Fastify answers them in its own JSON
 * shape, not problem+json, and without the X-Request-Id header.
 */
export function frameworkErrorReply(err: Error, request: FastifyRequest, reply: FastifyReply) {
  const { problem, headers } = toProblem(err, request.id);
  return reply
    .code(problem.status)
    .headers({ ...headers, 'x-request-id': request.id })
    .type('application/problem+json')
    .send(JSON.stringify(problem));
}

/** One place that turns every failure of a REST call into application/problem+json. */
export const restErrorsPlugin = fp(async (app) => {
  app.setErrorHandler((err, request, reply) => {
    const { problem, headers, unexpected } = toProblem(err, request.id);
    if (unexpected) request.log.error({ err }, 'unexpected error');
    else if (problem.status >= 500) request.log.warn({ err: { message: scrubbedMessage(err) } }, problem.code);
    return reply.code(problem.status).headers(headers).type('application/problem+json').send(JSON.stringify(problem));
  });

  app.setNotFoundHandler((request, reply) => {
    const { problem } = toProblem(Object.assign(new Error(`No route ${request.method} ${request.url.split('?')[0]}`), { statusCode: 404 }), request.id);
    return reply.code(404).type('application/problem+json').send(JSON.stringify(problem));
  });
});
