import { z } from 'zod';
import { and, desc, eq, gte, lte } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { type RequestContext, systemContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { AppError, type FieldError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { emit } from '../../platform/events/outbox.js';
import { linksOf } from './campaign-content.js';
import { CampaignEventsIngest } from './campaign.schema.js';
import { type CampaignEventRow, type EngagementType, campaignEvents, campaignRecipients } from './campaign.table.js';
import { verifyTrackingToken } from './tracking-token.js';
import * as repo from './campaign.repository.js';

// Engagement with campaigns: opens and clicks seen through tracking links, events ingested from other
// systems (an ESP's bounces, an ad platform's clicks), and conversions attributed to the last click.
// Each is stored per recipient and announced on the change feed as `campaign.<type>`.

/** how long after a campaign mail an unsubscribe is still counted as that campaign's */
export const UNSUBSCRIBE_WINDOW_DAYS = 30;

export interface EngagementDeps {
  db: Executor;
  trackingKey: () => Buffer;
  conversionWindowDays: number;
  now?: () => Date;
}

export interface TrackingRequest {
  requestId: string;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

const announce = (tx: Executor, ctx: RequestContext, rows: CampaignEventRow[]) =>
  emit(tx, ctx, rows.map((r) => ({
    type: `campaign.${r.type}`, entityType: 'campaign', entityId: r.campaignId, before: null,
    after: { campaignId: r.campaignId, contactId: r.contactId, type: r.type, occurredAt: r.occurredAt.toISOString(), url: r.url, orderId: r.orderId, amount: r.amount, currency: r.currency },
  })));

export function createEngagementService(deps: EngagementDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  async function record(ctx: RequestContext, rows: repo.EventInsert[]): Promise<CampaignEventRow[]> {
    return inTransaction(db, async (tx) => {
      const inserted = await repo.insertEvents(tx, rows);
      await announce(tx, ctx, inserted);
      return inserted;
    });
  }

  return {
    /** The open pixel was loaded. A token that is not ours is ignored: the pixel is served all the same. */
    async opened(token: string, from: TrackingRequest): Promise<void> {
      const recipientId = verifyTrackingToken(deps.trackingKey(), token, 'open');
      const recipient = recipientId ? await repo.findRecipient(db, recipientId) : undefined;
      if (!recipient) return;
      await record({ ...systemContext(from.requestId), ip: from.ip, userAgent: from.userAgent }, [
        { campaignId: recipient.campaignId, contactId: recipient.contactId, type: 'opened', source: 'tracking', occurredAt: now() },
      ]);
    },

    /**
     * A tracked link was followed: answers where to send the reader. Only the campaign's own links
     * are destinations, so a tracking link can never be made to redirect elsewhere (an open redirect).
     */
    async clicked(token: string, url: string | undefined, from: TrackingRequest): Promise<string> {
      const recipientId = verifyTrackingToken(deps.trackingKey(), token, 'click');
      const recipient = recipientId ? await repo.findRecipient(db, recipientId) : undefined;
      if (!recipient) throw notFound('Tracking link');
      if (!url || !linksOf(recipient.campaign.content).includes(url)) {
        throw validationFailed([{ path: 'u', message: 'is not a link of this campaign' }], 'The link does not lead to one of the campaign\'s links');
      }
      await record({ ...systemContext(from.requestId), ip: from.ip, userAgent: from.userAgent }, [
        { campaignId: recipient.campaignId, contactId: recipient.contactId, type: 'clicked', source: 'tracking', occurredAt: now(), url },
      ]);
      return url;
    },

    /** POST /campaigns/:id/events: engagement from other systems, contacts named by id or email. */
    async ingest(ctx: RequestContext, campaignId: string, raw: unknown): Promise<{ recorded: number; duplicates: number }> {
      assertCan(ctx.actor, 'campaigns', 'write');
      if (!z.uuid().safeParse(campaignId).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
      const input = parseInput(CampaignEventsIngest, raw);
      const campaign = await repo.findCampaign(db, campaignId);
      if (!campaign || campaign.deletedAt) throw notFound('Campaign');
      const byEmail = await repo.contactIdsByEmail(db, input.events.flatMap((e) => (e.email ? [e.email.toLowerCase()] : [])));
      const known = await repo.liveContactIds(db, input.events.flatMap((e) => (e.contactId ? [e.contactId] : [])));
      const errors: FieldError[] = [];
      const rows = input.events.map((e, i) => {
        const contactId = e.contactId ?? byEmail.get((e.email as string).toLowerCase());
        if (!contactId || (e.contactId && !known.has(e.contactId))) {
          errors.push({ path: `events.${i}.${e.contactId ? 'contactId' : 'email'}`, message: 'does not name a live contact' });
        }
        return {
          campaignId, contactId: contactId as string, type: e.type as EngagementType, source: 'ingest' as const,
          occurredAt: e.occurredAt ? new Date(e.occurredAt) : now(), url: e.url ?? null, externalId: e.externalId ?? null,
        };
      });
      // all or nothing: a batch with a bad row changes nothing, and the caller can resend it whole
      if (errors.length) throw new AppError('invalid_reference', 'Some events name no live contact', { errors });
      const inserted = await record(ctx, rows);
      return { recorded: inserted.length, duplicates: rows.length - inserted.length };
    },

    /**
     * A contact who unsubscribes (by a campaign's link or otherwise) counts as an unsubscribe of the
     * campaign they were last mailed, within UNSUBSCRIBE_WINDOW_DAYS. Fed by `contact.unsubscribed` events.
     */
    async attributeUnsubscribe(tx: Executor, contactId: string, at: Date): Promise<boolean> {
      const since = new Date(at.getTime() - UNSUBSCRIBE_WINDOW_DAYS * 86_400_000);
      const [last] = await tx.select().from(campaignRecipients)
        .where(and(eq(campaignRecipients.contactId, contactId), eq(campaignRecipients.status, 'sent'), gte(campaignRecipients.sentAt, since), lte(campaignRecipients.sentAt, at)))
        .orderBy(desc(campaignRecipients.sentAt)).limit(1);
      if (!last) return false;
      const [already] = await tx.select({ id: campaignEvents.id }).from(campaignEvents)
        .where(and(eq(campaignEvents.campaignId, last.campaignId), eq(campaignEvents.contactId, contactId), eq(campaignEvents.type, 'unsubscribed'))).limit(1);
      if (already) return false;
      const inserted = await repo.insertEvents(tx, [{ campaignId: last.campaignId, contactId, type: 'unsubscribed', source: 'system', occurredAt: at }]);
      await announce(tx, systemContext('campaign-attribution'), inserted);
      return true;
    },

    /**
     * Attributes an order to the campaign whose link its contact clicked last within the window
     * before the order was placed (once per order: campaign_events_order_key). Fed by order events.
     */
    async attributeOrder(tx: Executor, order: { id: string; contactId: string; total: string; currency: string; placedAt: string; status: string }): Promise<boolean> {
      if (order.status !== 'paid' && order.status !== 'fulfilled') return false;
      const placed = new Date(order.placedAt);
      const since = new Date(placed.getTime() - deps.conversionWindowDays * 86_400_000);
      const [click] = await tx.select().from(campaignEvents)
        .where(and(eq(campaignEvents.contactId, order.contactId), eq(campaignEvents.type, 'clicked'),
          gte(campaignEvents.occurredAt, since), lte(campaignEvents.occurredAt, placed)))
        .orderBy(desc(campaignEvents.occurredAt)).limit(1);
      if (!click) return false;
      const inserted = await repo.insertEvents(tx, [{
        campaignId: click.campaignId, contactId: order.contactId, type: 'converted', source: 'system', occurredAt: placed,
        orderId: order.id, amount: order.total, currency: order.currency,
      }]);
      await announce(tx, systemContext('campaign-attribution'), inserted);
      return inserted.length > 0;
    },
  };
}

export type EngagementService = ReturnType<typeof createEngagementService>;
