import fp from 'fastify-plugin';
import { toProblem } from './problem.js';

/** One place that turns every failure of a REST call into application/problem+json. */
export const restErrorsPlugin = fp(async (app) => {
  app.setErrorHandler((err, request, reply) => {
    const { problem, headers, unexpected } = toProblem(err, request.id);
    if (unexpected) request.log.error({ err }, 'unexpected error');
    else if (problem.status >= 500) request.log.warn({ err: { message: (err as Error).message } }, problem.code);
    return reply.code(problem.status).headers(headers).type('application/problem+json').send(JSON.stringify(problem));
  });

  app.setNotFoundHandler((request, reply) => {
    const { problem } = toProblem(Object.assign(new Error(`No route ${request.method} ${request.url.split('?')[0]}`), { statusCode: 404 }), request.id);
    return reply.code(404).type('application/problem+json').send(JSON.stringify(problem));
  });
});
