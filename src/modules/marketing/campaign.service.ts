import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial, assertOwnershipAssignable } from '../../platform/auth/permissions.js';
import { AppError, type FieldError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordChange } from '../../platform/events/record-change.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import { fitsCurrency } from '../../platform/http/money.js';
import type { ContactService } from '../customer/index.js';
import { checkPlaceholders } from './campaign-content.js';
import {
  CampaignCreate, type CampaignDto, CampaignPatch, CampaignSend, type CampaignStatsDto, toCampaignDto,
} from './campaign.schema.js';
import type { CampaignRow } from './campaign.table.js';
import type { SegmentService } from './segment.service.js';
import * as repo from './campaign.repository.js';

const ENTITY = 'campaign';
/** what may still change once sending has begun: the audience and the message are fixed then */
const ALWAYS_WRITABLE = new Set(['name', 'budget', 'spend', 'currency', 'ownerId', 'teamId']);

export interface CampaignServiceDeps {
  db: Executor;
  segments: Pick<SegmentService, 'conditionOf'>;
  contacts: Pick<ContactService, 'filterSpec'>;
  /** whether SMTP_URL is set: an email campaign cannot start without it */
  canSendEmail: () => boolean;
  now?: () => Date;
}

function parseId(id: string): string {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
  return id;
}

/** Money needs its currency and fits its minor units (KWD 3 decimals, JPY none). */
function checkMoney(v: { budget?: string | null; spend?: string | null; currency?: string | null }): FieldError[] {
  const errors: FieldError[] = [];
  for (const k of ['budget', 'spend'] as const) {
    const amount = v[k];
    if (amount === null || amount === undefined) continue;
    if (!v.currency) errors.push({ path: 'currency', message: `is required with ${k}` });
    else if (!fitsCurrency(amount, v.currency)) errors.push({ path: k, message: `has more decimals than ${v.currency} allows` });
  }
  return errors;
}

/**
 * Campaigns (API.md §5 Marketing; resource `campaigns`): drafts, scheduling, the start of sending
 * (which fixes the audience), cancellation and stats. The sending itself is campaign-sender.ts.
 */
export function createCampaignService(deps: CampaignServiceDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  const written = (tx: Executor, ctx: RequestContext, action: string, before: CampaignRow | null, after: CampaignRow, domainEvent?: string) =>
    recordChange(tx, ctx, { entityType: ENTITY, action, entityId: after.id, before: before ? toCampaignDto(before) : null, after: toCampaignDto(after), domainEvent });

  async function checkContent(v: { subject?: string | null | undefined; content?: string | null | undefined; budget?: string | null | undefined; spend?: string | null | undefined; currency?: string | null | undefined }, executor?: Executor) {
    const spec = await deps.contacts.filterSpec(executor);
    const errors = [
      ...checkPlaceholders({ subject: v.subject, content: v.content }, (key) => spec.dynamicField?.(`custom.${key}`) !== undefined),
      ...checkMoney(v),
    ];
    if (errors.length) throw validationFailed(errors);
  }

  async function lockLive(tx: Executor, id: string): Promise<CampaignRow> {
    const row = await repo.lockCampaign(tx, parseId(id));
    if (!row || row.deletedAt) throw notFound('Campaign');
    return row;
  }

  function readable(ctx: RequestContext, includeDeleted: boolean | undefined): { includeDeleted: boolean } {
    assertCan(ctx.actor, 'campaigns', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return { includeDeleted: includeDeleted ?? false };
  }

  /** Fixes the audience and starts sending, in the caller's transaction. */
  async function startIn(tx: Executor, ctx: RequestContext, current: CampaignRow): Promise<CampaignRow> {
    const missing: FieldError[] = [];
    if (current.channel !== 'email') missing.push({ path: 'channel', message: 'only email campaigns are sent by this service' });
    for (const k of ['segmentId', 'subject', 'content'] as const) if (!current[k]) missing.push({ path: k, message: 'is required to send' });
    if (missing.length) throw new AppError('conflict', 'The campaign cannot be sent as it is', { errors: missing });
    if (!deps.canSendEmail()) throw new AppError('conflict', 'No mail server is configured: set SMTP_URL');
    const members = await deps.segments.conditionOf(tx, current.segmentId as string);
    await repo.queueMembers(tx, current.id, members);
    const started = await repo.updateCampaign(tx, current.id, { status: 'sending', startedAt: now() });
    await written(tx, ctx, 'update', current, started, 'sending');
    return started;
  }

  return {
    startIn,

    async create(ctx: RequestContext, raw: unknown): Promise<CampaignDto> {
      assertCan(ctx.actor, 'campaigns', 'write');
      const input = parseInput(CampaignCreate, raw);
      assertOwnershipAssignable(ctx.actor, input);
      await checkContent(input);
      const row = await inTransaction(db, async (tx) => {
        if (input.segmentId) await deps.segments.conditionOf(tx, input.segmentId);
        const created = await repo.insertCampaign(tx, {
          name: input.name,
          channel: input.channel ?? 'email',
          segmentId: input.segmentId ?? null,
          subject: input.subject ?? null,
          content: input.content ?? null,
          budget: input.budget ?? null,
          spend: input.spend ?? null,
          currency: input.currency ?? null,
          ownerId: input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null,
          teamId: input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null,
        });
        await written(tx, ctx, 'create', null, created);
        return created;
      });
      return toCampaignDto(row);
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean } = {}): Promise<CampaignDto> {
      const { includeDeleted } = readable(ctx, o.includeDeleted);
      const row = await repo.findCampaign(db, parseId(id));
      if (!row || (row.deletedAt && !includeDeleted)) throw notFound('Campaign');
      return toCampaignDto(row);
    },


    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<CampaignDto>> {
      const o = readable(ctx, q.includeDeleted);
      const list = compileList(repo.campaignCollection, q);
      const rows = await repo.listCampaigns(db, list, o);
      return toPage(list, rows, (r) => r as unknown as Record<string, unknown>, toCampaignDto);
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const o = readable(ctx, q.includeDeleted);
      return repo.countCampaigns(db, compileFilter(repo.campaignCollection, q.filter), o);
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<CampaignDto> {
      assertCan(ctx.actor, 'campaigns', 'write');
      const patch = parseInput(CampaignPatch, raw);
      assertOwnershipAssignable(ctx.actor, patch);
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The campaign is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toCampaignDto(current) },
          });
        }
        const changes = applyPatch(toCampaignDto(current) as unknown as Record<string, unknown>, patch, []) as Partial<CampaignRow>;
        if (Object.keys(changes).length === 0) return current;
        const fixed = Object.keys(changes).filter((k) => !ALWAYS_WRITABLE.has(k));
        if (fixed.length && !['draft', 'scheduled'].includes(current.status)) {
          throw new AppError('conflict', `A ${current.status} campaign's audience and message can no longer change`, {
            errors: fixed.map((path) => ({ path, message: `cannot change once the campaign is ${current.status}` })),
          });
        }
        const merged = { ...toCampaignDto(current), ...changes };
        await checkContent({ ...merged, subject: 'subject' in changes ? merged.subject : undefined, content: 'content' in changes ? merged.content : undefined }, tx);
        if (changes.segmentId) await deps.segments.conditionOf(tx, changes.segmentId);
        const updated = await repo.updateCampaign(tx, current.id, changes);
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      return toCampaignDto(row);
    },

    /** POST /send: now (the audience is fixed in this transaction) or at a future `at` (scheduled). */
    async send(ctx: RequestContext, id: string, raw: unknown): Promise<CampaignDto> {
      assertCan(ctx.actor, 'campaigns', 'write');
      const input = parseInput(CampaignSend, raw ?? {});
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (!['draft', 'scheduled'].includes(current.status)) {
          throw new AppError('conflict', `The campaign is ${current.status}; only a draft or scheduled campaign can be sent`);
        }
        const at = input.at ? new Date(input.at) : undefined;
        if (at && at > now()) {
          const scheduled = await repo.updateCampaign(tx, current.id, { status: 'scheduled', scheduledAt: at });
          await written(tx, ctx, 'update', current, scheduled, 'scheduled');
          return scheduled;
        }
        return startIn(tx, ctx, current);
      });
      return toCampaignDto(row);
    },

    /** Stops a campaign: recipients not yet mailed never will be. A sent campaign cannot be cancelled. */
    async cancel(ctx: RequestContext, id: string): Promise<CampaignDto> {
      assertCan(ctx.actor, 'campaigns', 'write');
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (current.status === 'cancelled') return current;
        if (current.status === 'sent') throw new AppError('conflict', 'The campaign has been sent; it cannot be cancelled');
        await repo.cancelQueued(tx, current.id);
        const cancelled = await repo.updateCampaign(tx, current.id, { status: 'cancelled', cancelledAt: now() });
        await written(tx, ctx, 'update', current, cancelled, 'cancelled');
        return cancelled;
      });
      return toCampaignDto(row);
    },

    async stats(ctx: RequestContext, id: string): Promise<CampaignStatsDto> {
      assertCan(ctx.actor, 'campaigns', 'read');
      const row = await repo.findCampaign(db, parseId(id));
      if (!row || row.deletedAt) throw notFound('Campaign');
      const s = await repo.campaignStats(db, row.id);
      return {
        sent: s.sent, delivered: s.delivered, opened: s.opened, clicked: s.clicked, converted: s.converted,
        unsubscribed: s.unsubscribed, bounced: s.bounced,
        recipients: { queued: s.queued, sending: s.sending, sent: s.sent, failed: s.failed, interrupted: s.interrupted, cancelled: s.cancelled },
        revenue: s.revenue ?? {},
      };
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'campaigns', 'write');
      await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (current.status === 'sending') throw new AppError('conflict', 'The campaign is sending; cancel it first');
        await written(tx, ctx, 'delete', current, await repo.updateCampaign(tx, current.id, { deletedAt: new Date() }));
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<CampaignDto> {
      assertCan(ctx.actor, 'campaigns', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockCampaign(tx, parseId(id));
        if (!current) throw notFound('Campaign');
        if (!current.deletedAt) return current;
        const restored = await repo.updateCampaign(tx, current.id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toCampaignDto(row);
    },
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;
