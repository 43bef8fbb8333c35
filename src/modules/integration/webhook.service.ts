import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import {
  DEFAULT_OVERLAP_MINUTES, WebhookCreate, type WebhookDeliveryDto, type WebhookDto, WebhookPatch, WebhookRotateSecret, type WebhookWithSecretDto,
  toDeliveryDto, toWebhookDto,
} from './webhook.schema.js';
import type { WebhookRow } from './webhook.table.js';
import * as repo from './webhook.repository.js';
import { checkUrl } from './url-guard.js';
import { generateSecret } from './signature.js';
import type { DeliveryService } from './delivery.service.js';

export interface WebhookServiceDeps {
  db: Executor;
  allowPrivateNetworks: boolean;
  deliveries: DeliveryService;
}

const ENTITY = 'webhook';


/**
 * Webhooks are configuration (API.md §4): every role reads them and their delivery log (statuses, never
 * payloads or secrets), admin and manager change them. The events themselves reach only the
 * receiving URL, and the change feed stays admin and manager only.
 */
export function createWebhookService({ db, allowPrivateNetworks, deliveries }: WebhookServiceDeps) {
  const canRead = (ctx: RequestContext) => assertCan(ctx.actor, 'config', 'read');
  const canWrite = (ctx: RequestContext) => assertCan(ctx.actor, 'config', 'write');

  async function assertUrl(url: string): Promise<void> {
    const r = await checkUrl(url, allowPrivateNetworks);
    if (!r.ok) throw validationFailed([{ path: 'url', message: r.message }]);
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: WebhookRow | null, after: WebhookRow) {
    // the secret never reaches the audit log or the feed: both are read by people it is not for
    const b = before ? toWebhookDto(before) : null;
    const a = toWebhookDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored', rotate_secret: 'secret_rotated' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
  }

  async function lock(tx: Executor, id: string, deleted = false): Promise<WebhookRow> {
    const row = await repo.lockWebhook(tx, id);
    if (!row || (row.deletedAt !== null) !== deleted) throw notFound('Webhook');
    return row;
  }

  async function live(id: string): Promise<WebhookRow> {
    const row = await repo.findWebhook(db, id);
    if (!row || row.deletedAt) throw notFound('Webhook');
    return row;
  }

  return {
    async create(ctx: RequestContext, raw: unknown): Promise<WebhookWithSecretDto> {
      canWrite(ctx);
      const input = parseInput(WebhookCreate, raw);
      await assertUrl(input.url);
      const secret = input.secret ?? generateSecret();
      const row = await inTransaction(db, async (tx) => {
        const created = await repo.insertWebhook(tx, {
          url: input.url, events: [...new Set(input.events)], secret, enabled: input.enabled ?? true, description: input.description ?? null,
        });
        await written(tx, ctx, 'create', null, created);
        return created;
      });
      return { ...toWebhookDto(row), secret };
    },

    async get(ctx: RequestContext, id: string): Promise<WebhookDto> {
      canRead(ctx);
      return toWebhookDto(await live(id));
    },

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<WebhookDto>> {
      canRead(ctx);
      if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const list = compileList(repo.webhookCollection, q);
      return toPage(list, await repo.listWebhooks(db, list, q.includeDeleted ?? false), (r) => r, toWebhookDto);
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<WebhookDto> {
      canWrite(ctx);
      const patch = parseInput(WebhookPatch, raw);
      if (patch.url !== undefined) await assertUrl(patch.url);
      const row = await inTransaction(db, async (tx) => {
        const current = await lock(tx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The webhook is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toWebhookDto(current) },
          });
        }
        const changes = applyPatch(current as unknown as Record<string, unknown>, {
          ...patch, ...(patch.events ? { events: [...new Set(patch.events)] } : {}),
        }, []) as Partial<WebhookRow>;
        // enabling again is a fresh start: the reason and the failing streak go
        if (changes.enabled === true) Object.assign(changes, { disabledReason: null, failingSince: null });
        // a secret set by PATCH replaces the old one at once: no overlap, so no previous secret either
        if (changes.secret !== undefined) Object.assign(changes, { previousSecret: null, previousSecretExpiresAt: null });
        if (Object.keys(changes).length === 0) return current;
        const updated = await repo.updateWebhook(tx, id, changes);
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      return toWebhookDto(row);
    },

    /**
     * A new secret; the current one keeps signing (a second v1=) for `overlapMinutes`, so receivers
     * can switch without losing a delivery. A rotation during an overlap drops the oldest secret.
     */
    async rotateSecret(ctx: RequestContext, id: string, raw: unknown): Promise<WebhookWithSecretDto> {
      canWrite(ctx);
      const input = parseInput(WebhookRotateSecret, raw ?? {});
      const overlapMs = (input.overlapMinutes ?? DEFAULT_OVERLAP_MINUTES) * 60_000;
      const secret = input.secret ?? generateSecret();
      const row = await inTransaction(db, async (tx) => {
        const current = await lock(tx, id);
        if (secret === current.secret) throw validationFailed([{ path: 'secret', message: 'must differ from the current secret' }]);
        const updated = await repo.updateWebhook(tx, id, {
          secret,
          previousSecret: overlapMs > 0 ? current.secret : null,
          previousSecretExpiresAt: overlapMs > 0 ? new Date(Date.now() + overlapMs) : null,
        });
        await written(tx, ctx, 'rotate_secret', current, updated);
        return updated;
      });
      return { ...toWebhookDto(row), secret };
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      canWrite(ctx);
      await inTransaction(db, async (tx) => {
        const current = await lock(tx, id);
        await written(tx, ctx, 'delete', current, await repo.updateWebhook(tx, id, { deletedAt: new Date() }));
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<WebhookDto> {
      canWrite(ctx);
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await lock(tx, id, true);
        const restored = await repo.updateWebhook(tx, id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toWebhookDto(row);
    },

    /** The delivery log of one webhook, newest first. */
    async deliveries(ctx: RequestContext, webhookId: string, q: ParsedListQuery): Promise<Page<WebhookDeliveryDto>> {
      canRead(ctx);
      await live(webhookId);
      const list = compileList(repo.deliveryCollection, q);
      return toPage(list, await repo.listDeliveries(db, webhookId, list), (r) => r, toDeliveryDto);
    },

    /** A new attempt now, with the same event id; answers the delivery after it. */
    async redeliver(ctx: RequestContext, webhookId: string, deliveryId: string): Promise<WebhookDeliveryDto> {
      canWrite(ctx);
      await live(webhookId);
      if (!(await repo.findDelivery(db, webhookId, deliveryId))) throw notFound('Delivery');
      await deliveries.redeliver(db, deliveryId);
      return toDeliveryDto((await repo.findDelivery(db, webhookId, deliveryId)) as repo.DeliveryWithType);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
