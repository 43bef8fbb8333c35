import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { type Actor, isRole } from '../../platform/auth/actor.js';
import type { ApiKeyCache } from '../../platform/auth/credential-cache.js';
import { AppError } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { burnPasswordCheck, verifyPassword } from './password.js';
import { newSecret, sha256 } from './secrets.js';
import * as users from './user.repository.js';
import * as tokens from './token.repository.js';

export const LoginInput = z.object({ email: z.string().trim().toLowerCase().max(320), password: z.string().max(1024) }).strict().meta({ id: 'LoginInput' });
export const RefreshInput = z.object({ refreshToken: z.string().min(1).max(200) }).strict().meta({ id: 'RefreshInput' });
export const TokenPair = z
  .object({ accessToken: z.string(), refreshToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int() })
  .meta({ id: 'TokenPair' });
export type TokenPairDto = z.infer<typeof TokenPair>;

export interface AuthServiceDeps {
  db: Executor;
  signAccessToken: (claims: { sub: string; role: string; teamIds: string[]; jti: string }) => string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /** verified API keys, shared with the API-key service, which forgets a key when it revokes it */
  apiKeyCache: ApiKeyCache;
}

// Throttling: per account and per IP, counted in the database so every process sees the same count.
const WINDOW_SECONDS = 15 * 60;
const MAX_PER_ACCOUNT = 5;
const MAX_PER_IP = 50;

/** One answer for every failed sign-in: no way to tell a wrong password from an unknown account. */
const badCredentials = () => new AppError('unauthenticated', 'Email or password is wrong');
const badRefresh = () => new AppError('unauthenticated', 'The refresh token is not valid');


export function createAuthService(d: AuthServiceDeps) {
  async function issue(tx: Executor, user: users.UserRow, familyId: string): Promise<TokenPairDto> {
    const teamIds = (await users.teamIdsOf(tx, [user.id])).get(user.id) ?? [];
    const refreshToken = newSecret('rt_');
    await tokens.insertRefreshToken(tx, {
      userId: user.id,
      familyId,
      tokenHash: sha256(refreshToken),
      expiresAt: new Date(Date.now() + d.refreshTokenTtl * 1000),
    });
    const accessToken = d.signAccessToken({ sub: user.id, role: user.role, teamIds, jti: randomUUID() });
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: d.accessTokenTtl };
  }

  return {
    async login(raw: unknown, ip: string): Promise<TokenPairDto> {
      const input = parseInput(LoginInput, raw);
      const accountKey = `email:${input.email}`;
      const ipKey = `ip:${ip}`;
      // The attempt is counted before the password is checked, atomically (upsert … RETURNING): were
      // the count only read first, parallel guesses would all pass before any of them had failed.
      // A refused or successful attempt takes its count back; a failed one keeps it.
      const [byAccount = 0, byIp = 0] = await tokens.recordFailure(d.db, [accountKey, ipKey], WINDOW_SECONDS);
      if (byAccount > MAX_PER_ACCOUNT || byIp > MAX_PER_IP) {
        await tokens.takeBackFailure(d.db, [accountKey, ipKey]);
        throw new AppError('rate_limited', 'Too many failed sign-ins; wait before trying again', {
          headers: { 'retry-after': String(WINDOW_SECONDS) },
        });
      }
      const user = await users.findUserByEmail(d.db, input.email);
      const ok = user && user.active ? await verifyPassword(user.passwordHash, input.password) : await burnPasswordCheck(input.password);
      if (!ok || !user) throw badCredentials();
      await tokens.clearFailures(d.db, accountKey);
      await tokens.takeBackFailure(d.db, [ipKey]);
      return inTransaction(d.db, async (tx) => {
        await users.touchLogin(tx, user.id);
        return issue(tx, user, randomUUID());
      });
    },

    /**
     * Rotation: each refresh token works once. Presenting a used one means it was stolen (or the
     * client raced itself): the whole family is revoked, so the thief's copy dies too. The row lock
     * makes two simultaneous presentations of one token yield at most one new pair.
     */
    async refresh(raw: unknown): Promise<TokenPairDto> {
      const { refreshToken } = parseInput(RefreshInput, raw);
      const outcome = await inTransaction(d.db, async (tx) => {
        const row = await tokens.lockRefreshToken(tx, sha256(refreshToken));
        if (!row || row.revokedAt || row.expiresAt.getTime() <= Date.now()) return { error: true as const };
        if (row.usedAt) {
          await tokens.revokeFamily(tx, row.familyId); // committed: the revocation must stick
          return { error: true as const };
        }
        const user = await users.findUser(tx, row.userId);
        if (!user || !user.active) return { error: true as const };
        await tokens.markUsed(tx, row.id);
        return { pair: await issue(tx, user, row.familyId) };
      });
      if ('error' in outcome) throw badRefresh();
      return outcome.pair;
    },

    async logout(raw: unknown): Promise<void> {
      const { refreshToken } = parseInput(RefreshInput, raw);
      const revoked = await inTransaction(d.db, async (tx) => {
        const row = await tokens.lockRefreshToken(tx, sha256(refreshToken));
        if (!row || row.revokedAt) return false;
        await tokens.revokeFamily(tx, row.familyId);
        return true;
      });
      if (!revoked) throw badRefresh();
    },

    /**
     * Resolves `crm_…` keys for the auth hook: unknown, revoked and expired keys are all simply invalid.
     * A valid key is remembered for API_KEY_CACHE_MS (platform/auth/credential-cache.ts); its last use
     * is recorded when the database is asked, so lastUsedAt lags by at most that plus its minute.
     */
    async verifyApiKey(key: string): Promise<Actor | undefined> {
      if (key.length > 200) return undefined;
      return d.apiKeyCache.verify(key, async () => {
        const row = await tokens.findApiKeyByHash(d.db, sha256(key));
        if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= Date.now()) || !isRole(row.role)) return undefined;
        void tokens.touchApiKey(d.db, row.id).catch(() => undefined);
        return { actor: { type: 'api_key', id: row.id, role: row.role, teamIds: [] }, keyId: row.id, expiresAt: row.expiresAt };
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
