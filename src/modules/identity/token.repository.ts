import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { apiKeys, loginThrottle, refreshTokens } from './identity.table.js';

export type RefreshRow = typeof refreshTokens.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function insertRefreshToken(tx: Executor, v: typeof refreshTokens.$inferInsert): Promise<void> {
  await tx.insert(refreshTokens).values(v);
}

export async function lockRefreshToken(tx: Executor, tokenHash: string): Promise<RefreshRow | undefined> {
  return (await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).for('update'))[0];
}

export async function markUsed(tx: Executor, id: string): Promise<void> {
  await tx.update(refreshTokens).set({ usedAt: sql`now()` }).where(eq(refreshTokens.id, id));
}

export async function revokeFamily(tx: Executor, familyId: string): Promise<void> {
  await tx.update(refreshTokens).set({ revokedAt: sql`now()` }).where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

export async function revokeAllRefreshTokens(tx: Executor, userId: string): Promise<void> {
  await tx.update(refreshTokens).set({ revokedAt: sql`now()` }).where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}

export async function insertApiKey(tx: Executor, v: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
  return (await tx.insert(apiKeys).values(v).returning())[0] as ApiKeyRow;
}

export async function findApiKeyByHash(db: Executor, keyHash: string): Promise<ApiKeyRow | undefined> {
  return (await db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash)).limit(1))[0];
}

export async function lockApiKey(tx: Executor, id: string): Promise<ApiKeyRow | undefined> {
  return (await tx.select().from(apiKeys).where(eq(apiKeys.id, id)).for('update'))[0];
}

export async function revokeApiKey(tx: Executor, id: string): Promise<ApiKeyRow> {
  return (await tx.update(apiKeys).set({ revokedAt: sql`now()` }).where(eq(apiKeys.id, id)).returning())[0] as ApiKeyRow;
}

/** Records a use at most once a minute per key, so a busy integration does not write on every request. */
export async function touchApiKey(db: Executor, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiKeys.id, id), sql`(${apiKeys.lastUsedAt} IS NULL OR ${apiKeys.lastUsedAt} < now() - interval '1 minute')`));
}

export async function listApiKeys(db: Executor, limit: number, afterId?: string): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(afterId ? sql`${apiKeys.id} > ${afterId}::uuid` : undefined)
    .orderBy(apiKeys.id)
    .limit(limit);
}

/** Counts one failure against each key; answers each key's count in the window, this one included. */
export async function recordFailure(db: Executor, keys: string[], windowSeconds: number): Promise<number[]> {
  const counts: number[] = [];
  for (const key of keys) {
    const [row] = await db
      .insert(loginThrottle)
      .values({ key, failures: 1 })
      .onConflictDoUpdate({
        target: loginThrottle.key,
        set: {
          failures: sql`CASE WHEN ${loginThrottle.windowStart} > now() - make_interval(secs => ${windowSeconds}) THEN ${loginThrottle.failures} + 1 ELSE 1 END`,
          windowStart: sql`CASE WHEN ${loginThrottle.windowStart} > now() - make_interval(secs => ${windowSeconds}) THEN ${loginThrottle.windowStart} ELSE now() END`,
        },
      })
      .returning({ failures: loginThrottle.failures });
    counts.push(row?.failures ?? 0);
  }
  return counts;
}

/** Undoes one recordFailure for each key: for attempts that turned out not to be failures. */
export async function takeBackFailure(db: Executor, keys: string[]): Promise<void> {
  for (const key of keys) {
    await db.update(loginThrottle).set({ failures: sql`GREATEST(${loginThrottle.failures} - 1, 0)` }).where(eq(loginThrottle.key, key));
  }
}

export async function clearFailures(db: Executor, key: string): Promise<void> {
  await db.delete(loginThrottle).where(eq(loginThrottle.key, key));
}
