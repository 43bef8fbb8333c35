import { z } from 'zod';

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

/** Adds the shared error responses to a route's success responses, so OpenAPI documents them. */
export function withProblems<T extends Record<number, z.ZodType>>(ok: T) {
  return { ...ok, '4XX': Problem, '5XX': Problem } as T & { '4XX': typeof Problem; '5XX': typeof Problem };
}

export const NoContent = z.null().describe('No content');
