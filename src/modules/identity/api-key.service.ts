import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import type { ApiKeyCache } from '../../platform/auth/credential-cache.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { ROLES, type RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { notFound, validationFailed } from '../../platform/errors/app-error.js';
import { issuesToFieldErrors } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { Timestamp, Uuid, iso } from '../../platform/http/common.schema.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { newSecret, sha256 } from './secrets.js';
import * as tokens from './token.repository.js';

export const ApiKeyCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    role: z.enum(ROLES),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe('when the key stops working; never when absent'),
  })
  .strict()
  .meta({ id: 'ApiKeyCreate' });

export const ApiKey = z
  .object({
    id: Uuid,
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string().describe('the first characters of the key, to tell keys apart'),
    createdBy: Uuid.nullable(),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const ApiKeyWithSecret = ApiKey.extend({ key: z.string().describe('shown only in this response') }).meta({ id: 'ApiKeyWithSecret' });
export const ApiKeyList = z.object({ data: z.array(ApiKey), nextCursor: z.string().nullable() }).meta({ id: 'ApiKeyList' });
export type ApiKeyDto = z.infer<typeof ApiKey>;

const toDto = (r: tokens.ApiKeyRow): ApiKeyDto => ({
  id: r.id,
  name: r.name,
  role: r.role as ApiKeyDto['role'],
  prefix: r.prefix,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  expiresAt: iso(r.expiresAt),
  revokedAt: iso(r.revokedAt),
  lastUsedAt: iso(r.lastUsedAt),
});

/** `apiKeyCache`: the auth service's verified keys; a revoked key is forgotten there at once. */
export function createApiKeyService({ db, apiKeyCache }: { db: Executor; apiKeyCache?: ApiKeyCache }) {
  return {
    async create(ctx: RequestContext, raw: unknown): Promise<ApiKeyDto & { key: string }> {
      assertCan(ctx.actor, 'api_keys', 'write');
      const r = ApiKeyCreate.safeParse(raw);
      if (!r.success) throw validationFailed(issuesToFieldErrors(r.error.issues));
      const expiresAt = r.data.expiresAt ? new Date(r.data.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw validationFailed([{ path: 'expiresAt', message: 'must be in the future' }]);
      const key = newSecret('crm_');
      const row = await inTransaction(db, async (tx) => {
        const created = await tokens.insertApiKey(tx, {
          name: r.data.name,
          role: r.data.role,
          keyHash: sha256(key),
          prefix: key.slice(0, 12),
          createdBy: ctx.actor.type === 'user' ? ctx.actor.id : null,
          expiresAt,
        });
        const dto = toDto(created);
        await recordAudit(tx, ctx, { action: 'create', entityType: 'api_key', entityId: created.id, before: null, after: dto });
        await emit(tx, ctx, { type: 'api_key.created', entityType: 'api_key', entityId: created.id, before: null, after: dto });
        return created;
      });
      return { ...toDto(row), key };
    },

    async list(ctx: RequestContext, q: { limit?: number | undefined; cursor?: string | undefined }) {
      assertCan(ctx.actor, 'api_keys', 'read');
      const limit = q.limit ?? 50;
      if (limit < 1 || limit > MAX_LIMIT) throw validationFailed([{ path: 'limit', message: `must be 1 to ${MAX_LIMIT}` }]);
      if (q.cursor && !Uuid.safeParse(q.cursor).success) throw validationFailed([{ path: 'cursor', message: 'is not a cursor of this listing' }]);
      const rows = await tokens.listApiKeys(db, limit + 1, q.cursor);
      const page = rows.slice(0, limit).map(toDto);
      return { data: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
    },

    async revoke(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'api_keys', 'write');
      await inTransaction(db, async (tx) => {
        const current = await tokens.lockApiKey(tx, id);
        if (!current || current.revokedAt) throw notFound('API key');
        const after = await tokens.revokeApiKey(tx, id);
        await recordAudit(tx, ctx, { action: 'revoke', entityType: 'api_key', entityId: id, before: toDto(current), after: toDto(after) });
        await emit(tx, ctx, { type: 'api_key.revoked', entityType: 'api_key', entityId: id, before: toDto(current), after: toDto(after) });
      });
      apiKeyCache?.forget(id);
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
