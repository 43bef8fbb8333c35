import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag } from '../../platform/http/etag.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { LoginInput, RefreshInput, TokenPair, type AuthService } from './auth.service.js';
import type { CredentialThrottle } from './credential-throttle.js';
import { User } from './user.schema.js';
import type { UserService } from './user.service.js';

const tags = ['auth'];

export const authRoutes: FastifyPluginAsyncZod<{ auth: AuthService; users: UserService; throttle: CredentialThrottle }> = async (app, { auth, users, throttle }) => {
  app.post('/auth/login', {
    config: { public: true },
    preHandler: (req) => throttle('login', req),
    schema: { tags, operationId: 'login', summary: 'Sign in with email and password', security: [], body: LoginInput, response: withProblems({ 200: TokenPair }) },
  }, async (req) => auth.login(req.body, req.ip));

  app.post('/auth/refresh', {
    config: { public: true },
    preHandler: (req) => throttle('refresh', req),
    schema: { tags, operationId: 'refreshToken', summary: 'Trade a refresh token for a new pair (rotation)', security: [], body: RefreshInput, response: withProblems({ 200: TokenPair }) },
  }, async (req) => auth.refresh(req.body));

  app.post('/auth/logout', {
    config: { public: true },
    preHandler: (req) => throttle('logout', req),
    schema: { tags, operationId: 'logout', summary: 'Revoke a refresh token and its family', security: [], body: RefreshInput, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await auth.logout(req.body);
    return reply.code(204).send(null);
  });

  app.get('/me', {
    schema: { tags, operationId: 'me', summary: 'The signed-in user', response: withProblems({ 200: User }) },
  }, async (req, reply) => {
    const me = await users.me(contextOf(req));
    setEtag(reply, me);
    return me;
  });
};
