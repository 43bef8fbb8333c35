import { boolean, index, integer, pgTable, text, uniqueIndex, uuid, bigint } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, recordColumns, ts } from '../../platform/db/columns.js';

/** Subscriptions to the change feed (API.md §5 Integration). */
export const webhooks = pgTable(
  'webhooks',
  {
    ...recordColumns(),
    url: text('url').notNull(),
    /** type patterns as in GET /v1/events?types= (`contact.*`, `deal.stage_changed`) */
    events: text('events').array().notNull(),
    /** the HMAC key, exactly as shown to the client once */
    secret: text('secret').notNull(),
    /** the secret before the last rotation: it still signs (a second v1=) until previousSecretExpiresAt */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: ts('previous_secret_expires_at'),
    enabled: boolean('enabled').notNull().default(true),
    description: text('description'),
    /** the first failure of the current failing streak; a webhook failing for days is disabled */
    failingSince: ts('failing_since'),
    disabledReason: text('disabled_reason'),
  },
  (t) => [index('webhooks_created_idx').on(t.createdAt, t.id)],
);

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'dead'] as const;

/** One event to one webhook: retried with backoff until it succeeds or is dead-lettered. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: idColumn(),
    webhookId: uuid('webhook_id').notNull().references(() => webhooks.id),
    eventId: uuid('event_id').notNull(),
    /** the event's feed position, for ordering and for the dispatcher's cursor */
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    /** pending: waiting for its (next) attempt; failed: last attempt failed, another is scheduled; dead: no more attempts */
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    lastAttemptAt: ts('last_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    deliveredAt: ts('delivered_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_webhook_event_key').on(t.webhookId, t.eventId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} IN ('pending', 'failed')`),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt, t.id),
  ],
);

export { feedCursors } from '../../platform/events/cursor.table.js';

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
