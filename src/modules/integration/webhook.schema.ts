import { z } from 'zod';
import { Timestamp, Uuid, iso, recordFields } from '../../platform/http/common.schema.js';
import { DELIVERY_STATUSES, type WebhookDeliveryRow, type WebhookRow } from './webhook.table.js';
import { EventPattern, MAX_PATTERNS } from './feed.schema.js';

// Webhook subscriptions and their delivery log (API.md §5 Integration).

const writable = {
  url: z.string().trim().min(1).max(2000).describe('https or http; must not resolve to link-local, metadata or (unless allowed) private addresses'),
  events: z.array(EventPattern).min(1).max(MAX_PATTERNS).describe('Event types, <entity>.* patterns, or *'),
  secret: z
    .string()
    .min(16)
    .max(256)
    .describe('The HMAC key (its UTF-8 bytes). Generated when absent; shown only in the create response. Setting it replaces the old one at once (POST /v1/webhooks/{id}/rotate-secret rotates with an overlap)'),
  enabled: z.boolean().describe('default true; enabling clears disabledReason'),
  description: z.string().trim().max(500).nullable(),
};

export const WebhookCreate = z
  .object(writable)
  .partial()
  .required({ url: true, events: true })
  .strict()
  .meta({ id: 'WebhookCreate' });

export const WebhookPatch = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'WebhookPatch', description: 'JSON merge patch; a new url is checked as on create' });

export const WebhookRotateSecret = z
  .object({
    overlapMinutes: z.number().int().min(0).max(10_080).describe('how long the previous secret still signs deliveries (a second v1=); default 1440 (a day), 0 stops it at once'),
    secret: writable.secret.describe('The new HMAC key; generated when absent. Shown only in this response'),
  })
  .partial()
  .strict()
  .meta({ id: 'WebhookRotateSecret' });

export const DEFAULT_OVERLAP_MINUTES = 1440;

export type WebhookCreateInput = z.infer<typeof WebhookCreate>;
export type WebhookPatchInput = z.infer<typeof WebhookPatch>;

const webhookFields = {
  ...recordFields,
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  description: z.string().nullable(),
  failingSince: Timestamp.nullable().describe('when the current run of failed deliveries began; null while deliveries succeed'),
  disabledReason: z.string().nullable().describe('why the service disabled the webhook (deliveries failing without a success for a day)'),
  previousSecretExpiresAt: Timestamp.nullable().describe('after a secret rotation: until when deliveries are also signed with the previous secret; null when there is none'),
};

export const Webhook = z.object(webhookFields).meta({ id: 'Webhook' });

export const WebhookWithSecret = z
  .object({ ...webhookFields, secret: z.string().describe('shown only here: keep it to verify X-CRM-Signature') })
  .meta({ id: 'WebhookWithSecret' });

export type WebhookDto = z.infer<typeof Webhook>;
export type WebhookWithSecretDto = z.infer<typeof WebhookWithSecret>;

export const WebhookList = z.object({ data: z.array(Webhook), nextCursor: z.string().nullable() }).meta({ id: 'WebhookList' });

export function toWebhookDto(r: WebhookRow): WebhookDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    url: r.url,
    events: r.events,
    enabled: r.enabled,
    description: r.description,
    failingSince: iso(r.failingSince),
    disabledReason: r.disabledReason,
    previousSecretExpiresAt: r.previousSecret ? iso(r.previousSecretExpiresAt) : null,
  };
}

export const WebhookDelivery = z
  .object({
    id: Uuid,
    webhookId: Uuid,
    eventId: Uuid.describe('X-CRM-Event-Id of every attempt'),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES).describe('pending: waiting for an attempt; failed: the last attempt failed, another is scheduled; succeeded; dead: no more attempts'),
    attempts: z.number().int(),
    nextAttemptAt: Timestamp.nullable().describe('null once succeeded or dead'),
    lastAttemptAt: Timestamp.nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: Timestamp.nullable(),
    createdAt: Timestamp.describe('when the delivery (or its last manual redelivery) began; retries stop 3 days after it'),
  })
  .meta({ id: 'WebhookDelivery' });

export type WebhookDeliveryDto = z.infer<typeof WebhookDelivery>;

export const WebhookDeliveryList = z
  .object({ data: z.array(WebhookDelivery), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookDeliveryList' });

export function toDeliveryDto(r: WebhookDeliveryRow & { eventType: string }): WebhookDeliveryDto {
  const final = r.status === 'succeeded' || r.status === 'dead';
  return {
    id: r.id,
    webhookId: r.webhookId,
    eventId: r.eventId,
    eventType: r.eventType,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: final ? null : r.nextAttemptAt.toISOString(),
    lastAttemptAt: iso(r.lastAttemptAt),
    lastStatusCode: r.lastStatusCode,
    lastError: r.lastError,
    deliveredAt: iso(r.deliveredAt),
    createdAt: r.createdAt.toISOString(),
  };
}

export const WebhookId = z.object({ id: Uuid });
export const DeliveryParams = z.object({ id: Uuid, deliveryId: Uuid });
