import type { FastifyRequest } from 'fastify';
import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { AuthService } from './auth.service.js';
import type { UserService } from './user.service.js';
import type { ApiKeyService } from './api-key.service.js';
import type { CredentialThrottle } from './credential-throttle.js';

type Ctx = Parameters<typeof callerOf>[0] & { reply: { request: FastifyRequest } };
const plain = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** Identity over GraphQL: the same services as REST. login/refresh/logout need no token, like their REST twins. */
export function identityResolvers(s: { auth: AuthService; users: UserService; apiKeys: ApiKeyService; throttle: CredentialThrottle }): IResolvers {
  return {
    Query: {
      me: (_: unknown, _a: unknown, ctx: Ctx) => s.users.me(callerOf(ctx)),
      user: (_: unknown, a: { id: string }, ctx: Ctx) => s.users.get(callerOf(ctx), a.id),
      users: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await s.users.list(callerOf(ctx), listParamsFromGraphql(a))),
      team: (_: unknown, a: { id: string }, ctx: Ctx) => s.users.getTeam(callerOf(ctx), a.id),
      teams: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await s.users.listTeams(callerOf(ctx), listParamsFromGraphql(a))),
      apiKeys: async (_: unknown, a: { first?: number; after?: string }, ctx: Ctx) => {
        const page = await s.apiKeys.list(callerOf(ctx), { limit: a.first ?? undefined, cursor: a.after ?? undefined });
        return { nodes: page.data, nextCursor: page.nextCursor };
      },
    },
    Mutation: {
      // each field spends from the same budget as one REST call: aliases cannot multiply guesses
      login: async (_: unknown, a: { email: string; password: string }, ctx: Ctx) => {
        await s.throttle('login', ctx.reply.request);
        return s.auth.login(plain(a), ctx.reply.request.ip);
      },
      refreshToken: async (_: unknown, a: { refreshToken: string }, ctx: Ctx) => {
        await s.throttle('refresh', ctx.reply.request);
        return s.auth.refresh(plain(a));
      },
      logout: async (_: unknown, a: { refreshToken: string }, ctx: Ctx) => {
        await s.throttle('logout', ctx.reply.request);
        await s.auth.logout(plain(a));
        return true;
      },
      createUser: (_: unknown, a: { input: unknown }, ctx: Ctx) => s.users.create(callerOf(ctx), plain(a.input)),
      updateUser: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        s.users.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deactivateUser: (_: unknown, a: { id: string }, ctx: Ctx) => s.users.update(callerOf(ctx), a.id, { active: false }),
      createTeam: (_: unknown, a: { input: unknown }, ctx: Ctx) => s.users.createTeam(callerOf(ctx), plain(a.input)),
      updateTeam: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        s.users.updateTeam(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteTeam: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await s.users.removeTeam(callerOf(ctx), a.id);
        return true;
      },
      addTeamMember: (_: unknown, a: { teamId: string; userId: string }, ctx: Ctx) => s.users.setMembership(callerOf(ctx), a.teamId, a.userId, true),
      removeTeamMember: (_: unknown, a: { teamId: string; userId: string }, ctx: Ctx) => s.users.setMembership(callerOf(ctx), a.teamId, a.userId, false),
      createApiKey: (_: unknown, a: { input: unknown }, ctx: Ctx) => s.apiKeys.create(callerOf(ctx), plain(a.input)),
      revokeApiKey: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await s.apiKeys.revoke(callerOf(ctx), a.id);
        return true;
      },
    },
  } as IResolvers;
}
