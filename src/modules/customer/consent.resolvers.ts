import type { IResolvers } from 'mercurius';
import type { ConsentService } from './consent.service.js';

type Ctx = { reply?: { request: { id: string; ip: string; headers: Record<string, string | string[] | undefined> } } };

/**
 * `unsubscribe` needs no caller, like login: the signed token is the authority, and the change is
 * written as the system. Anonymous GraphQL reaches it because the auth hook lets requests without
 * an Authorization header through and only callerOf refuses them.
 */
export function consentResolvers(consent: ConsentService): IResolvers {
  return {
    Mutation: {
      unsubscribe: (_: unknown, a: { token: string }, ctx: Ctx) => {
        const req = ctx.reply?.request;
        const agent = req?.headers['user-agent'];
        return consent.unsubscribe(a.token, {
          requestId: req?.id ?? 'graphql', ip: req?.ip, userAgent: typeof agent === 'string' ? agent : undefined,
        });
      },
    },
  } as IResolvers;
}
