import { index, integer, numeric, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, ownershipColumns, recordColumns, ts } from '../../platform/db/columns.js';
import { segments } from './segment.table.js';

export const CAMPAIGN_CHANNELS = ['email', 'sms', 'social', 'ads', 'event'] as const;
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'sent', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const campaigns = pgTable(
  'campaigns',
  {
    ...recordColumns(),
    ...ownershipColumns(),
    name: text('name').notNull(),
    channel: text('channel', { enum: CAMPAIGN_CHANNELS }).notNull().default('email'),
    segmentId: uuid('segment_id').references(() => segments.id),
    subject: text('subject'),
    /** HTML with `{{placeholders}}`; links in it are the only places a click may redirect to */
    content: text('content'),
    status: text('status', { enum: CAMPAIGN_STATUSES }).notNull().default('draft'),
    scheduledAt: ts('scheduled_at'),
    budget: numeric('budget', { precision: 19, scale: 4 }),
    spend: numeric('spend', { precision: 19, scale: 4 }),
    currency: text('currency'),
    /** when sending began (recipients were fixed then) and when the last message went out */
    startedAt: ts('started_at'),
    sentAt: ts('sent_at'),
    cancelledAt: ts('cancelled_at'),
  },
  (t) => [
    index('campaigns_created_idx').on(t.createdAt, t.id),
    index('campaigns_status_idx').on(t.status, t.scheduledAt),
    index('campaigns_segment_idx').on(t.segmentId),
  ],
);

export const RECIPIENT_STATUSES = ['queued', 'sending', 'sent', 'failed', 'interrupted', 'cancelled'] as const;
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

/**
 * Who a campaign goes to, fixed when sending starts: one row per contact (unique), so nobody is
 * queued twice. A row moves queued → sending (committed before the SMTP call) → sent | failed; a
 * row left `sending` by a crash becomes `interrupted` and is never mailed again (at most once).
 */
export const campaignRecipients = pgTable(
  'campaign_recipients',
  {
    id: idColumn(),
    campaignId: uuid('campaign_id').notNull().references(() => campaigns.id),
    /** a contact; its foreign key is declared in the migration (modules meet only through index.ts) */
    contactId: uuid('contact_id').notNull(),
    /** the address the message went to (personal data: GDPR erasure clears it) */
    email: text('email'),
    status: text('status', { enum: RECIPIENT_STATUSES }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    attemptedAt: ts('attempted_at'),
    sentAt: ts('sent_at'),
    messageId: text('message_id'),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('campaign_recipients_campaign_contact_key').on(t.campaignId, t.contactId),
    index('campaign_recipients_queue_idx').on(t.campaignId, t.status, t.id),
    index('campaign_recipients_contact_idx').on(t.contactId),
  ],
);

export const ENGAGEMENT_TYPES = ['delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'converted'] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];
export const ENGAGEMENT_SOURCES = ['tracking', 'ingest', 'system'] as const;

/** What recipients did with a campaign: tracked here, ingested from other systems, or attributed (conversions). */
export const campaignEvents = pgTable(
  'campaign_events',
  {
    id: idColumn(),
    campaignId: uuid('campaign_id').notNull().references(() => campaigns.id),
    contactId: uuid('contact_id').notNull(),
    type: text('type', { enum: ENGAGEMENT_TYPES }).notNull(),
    source: text('source', { enum: ENGAGEMENT_SOURCES }).notNull(),
    occurredAt: ts('occurred_at').notNull().defaultNow(),
    /** the link clicked */
    url: text('url'),
    /** a conversion's order and its value */
    orderId: uuid('order_id'),
    amount: numeric('amount', { precision: 19, scale: 4 }),
    currency: text('currency'),
    /** the sending system's id of an ingested event: the same one twice is recorded once */
    externalId: text('external_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('campaign_events_campaign_idx').on(t.campaignId, t.type, t.contactId),
    index('campaign_events_contact_idx').on(t.contactId, t.occurredAt),
    uniqueIndex('campaign_events_external_key').on(t.campaignId, t.externalId).where(sql`${t.externalId} IS NOT NULL`),
    // one conversion per order, whatever the number of campaigns clicked before it (last click wins)
    uniqueIndex('campaign_events_order_key').on(t.orderId).where(sql`${t.type} = 'converted'`),
  ],
);

export type CampaignRow = typeof campaigns.$inferSelect;
export type CampaignInsert = typeof campaigns.$inferInsert;
export type RecipientRow = typeof campaignRecipients.$inferSelect;
export type CampaignEventRow = typeof campaignEvents.$inferSelect;
