import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { Logger } from '../../platform/logger.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { createApiKeyCache } from '../../platform/auth/credential-cache.js';
import { createAuthService } from './auth.service.js';
import { createUserService } from './user.service.js';
import { createApiKeyService } from './api-key.service.js';
import { authRoutes } from './auth.routes.js';
import { teamRoutes, userRoutes } from './user.routes.js';
import { apiKeyRoutes } from './api-key.routes.js';
import { identityResolvers } from './identity.resolvers.js';
import { ensureFirstAdmin } from './bootstrap.js';
import { createCredentialThrottle } from './credential-throttle.js';

export type { UserService } from './user.service.js';
export type { AuthService } from './auth.service.js';
export { UserSummary, type UserSummaryDto } from './user.schema.js';

/** Users, teams, sign-in and API keys. `verifyApiKey` feeds the platform's auth hook. */
export function identityModule(o: {
  config: Config;
  db: Executor;
  signAccessToken: (claims: { sub: string; role: string; teamIds: string[]; jti: string }) => string;
}) {
  const users = createUserService({ db: o.db });
  const apiKeyCache = createApiKeyCache();
  const auth = createAuthService({
    db: o.db,
    signAccessToken: o.signAccessToken,
    accessTokenTtl: o.config.jwt.accessTokenTtl,
    refreshTokenTtl: o.config.jwt.refreshTokenTtl,
    apiKeyCache,
  });
  const apiKeys = createApiKeyService({ db: o.db, apiKeyCache });
  const throttle = createCredentialThrottle();
  const graphql: GraphqlModule = { resolvers: identityResolvers({ auth, users, apiKeys, throttle }) };
  return {
    services: { users, auth, apiKeys },
    verifyApiKey: (key: string) => auth.verifyApiKey(key),
    ensureFirstAdmin: (log: Logger) => ensureFirstAdmin(o.db, users, o.config.admin, log),
    routes: (async (app) => {
      await app.register(authRoutes, { auth, users, throttle });
      await app.register(userRoutes, { users });
      await app.register(teamRoutes, { users });
      await app.register(apiKeyRoutes, { apiKeys });
    }) as FastifyPluginAsync,
    graphql,
  };
}
