import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { systemContext } from '../../platform/auth/actor.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { sequenceEvents } from '../../platform/events/sequencer.js';
import { matchesType, toFeedEvent, toTypeFilter } from './feed.schema.js';
import * as repo from './delivery.repository.js';
import { updateWebhook } from './webhook.repository.js';
import { toWebhookDto } from './webhook.schema.js';
import type { WebhookRow } from './webhook.table.js';
import { signatureHeader } from './signature.js';
import { DELIVERY_TIMEOUT_MS, type Send, type SendOutcome, USER_AGENT, sendWebhook } from './delivery.worker.js';

// The two background steps behind webhooks (API.md §5 Integration), exported so tests drive them:
//   fan-out:  sequenced events after the 'webhooks' cursor → one delivery row per matching webhook;
//   delivery: due deliveries claimed (SKIP LOCKED, with a lease) → one signed POST each → outcome.
// Delivery is at least once: a receiver de-duplicates by X-CRM-Event-Id, the same on every attempt.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** retries stop this long after a delivery began; then it is dead */
export const RETRY_WINDOW_MS = 3 * DAY;
/**
 * a webhook whose deliveries keep failing this long (no success in between) is disabled; its
 * deliveries keep their own 3-day window and resume if it is enabled again
 */
export const DISABLE_AFTER_MS = DAY;
const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 6 * HOUR;
/** longer than an attempt can take, so a live claim never expires under its worker */
const LEASE_MS = MINUTE;
const CURSOR = 'webhooks';
/** the server's worker runner goes again at once after a pass of 5000, so a backlog drains quickly */
const FAN_OUT_BATCH = 5000;
/** attempts run side by side, this many at a time */
const DELIVERY_BATCH = 20;
/** full batches one pass may take before yielding to the next tick */
const DELIVERY_ROUNDS = 10;

export interface DeliveryOptions {
  allowPrivateNetworks: boolean;
  /** the clock; tests move it days ahead to reach retries and dead-lettering */
  now?: () => Date;
  timeoutMs?: number;
  /** 0 ≤ x < 1, for the backoff's jitter */
  random?: () => number;
  send?: Send;
  batch?: number;
}

/** Delay before retry number `attempts` (1 = after the first failure): 30 s × 2^(n-1) ± 25 %, at most 6 h. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(Math.max(attempts - 1, 0), 20));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** One fan-out pass; returns how many events it consumed (the worker goes again at once when busy). */
export async function fanOutWebhooks(db: Executor, o: { now?: () => Date; batch?: number } = {}): Promise<number> {
  await sequenceEvents(db);
  return inTransaction(db, async (tx) => {
    const cursor = await repo.lockCursor(tx, CURSOR);
    if (cursor === undefined) return 0; // another process is fanning out right now
    const batch = await repo.sequencedAfter(tx, cursor, o.batch ?? FAN_OUT_BATCH);
    const last = batch.at(-1);
    if (!last) return 0;
    const hooks = (await repo.activeWebhooks(tx)).map((h) => ({ h, filter: toTypeFilter(h.events) }));
    const now = (o.now ?? (() => new Date()))();
    const rows = batch.flatMap((e) =>
      hooks
        // a webhook gets the changes made after it was created, not the history before it
        .filter(({ h, filter }) => e.occurredAt >= h.createdAt && matchesType(filter, e.type))
        .map(({ h }) => ({ webhookId: h.id, eventId: e.id, eventSeq: e.seq as number, status: 'pending' as const, nextAttemptAt: now, createdAt: now })),
    );
    await repo.insertDeliveries(tx, rows);
    await repo.advanceCursor(tx, CURSOR, last.seq as number);
    return batch.length;
  });
}

/** One delivery pass: claims what is due, batch by batch, and attempts it; returns how many it attempted. */
export async function deliverDueWebhooks(db: Executor, o: DeliveryOptions): Promise<number> {
  const clock = o.now ?? (() => new Date());
  const batch = o.batch ?? DELIVERY_BATCH;
  let total = 0;
  for (let round = 0; round < DELIVERY_ROUNDS; round++) {
    const now = clock();
    const ids = await repo.claimDue(db, now, new Date(now.getTime() + LEASE_MS), batch);
    const claimed = await repo.loadAttempts(db, ids);
    await Promise.all(claimed.map((a) => attempt(db, a, o)));
    total += ids.length;
    if (ids.length < batch) break;
  }
  return total;
}

/** A manual redelivery: the delivery starts over (fresh schedule and window) and is attempted now. */
export async function redeliverNow(db: Executor, deliveryId: string, o: DeliveryOptions): Promise<void> {
  const now = (o.now ?? (() => new Date()))();
  await repo.restartDelivery(db, deliveryId, now, new Date(now.getTime() + LEASE_MS));
  const [a] = await repo.loadAttempts(db, [deliveryId]);
  if (a) await attempt(db, a, o);
}

async function attempt(db: Executor, a: repo.AttemptRow, o: DeliveryOptions): Promise<void> {
  const clock = o.now ?? (() => new Date());
  const body = JSON.stringify(toFeedEvent(a.event));
  const sentAt = clock();
  const t = Math.floor(sentAt.getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-crm-event-id': a.event.id,
    'x-crm-event-type': a.event.type,
    'x-crm-delivery-id': a.delivery.id,
    'x-crm-signature': signatureHeader(signingSecrets(a.webhook, sentAt), body, t),
  };
  const send = o.send ?? sendWebhook;
  let outcome: SendOutcome;
  try {
    outcome = await send(a.webhook.url, body, headers, { timeoutMs: o.timeoutMs ?? DELIVERY_TIMEOUT_MS, allowPrivateNetworks: o.allowPrivateNetworks });
  } catch (e) {
    outcome = { ok: false, statusCode: null, error: (e as Error).message, retryAfterSeconds: null };
  }
  const at = clock();
  await inTransaction(db, (tx) => (outcome.ok ? succeeded(tx, a, outcome, at) : failed(tx, a, outcome, at, o.random ?? Math.random)));
}

/** The current secret, then the previous one while its overlap after a rotation lasts. */
export function signingSecrets(hook: Pick<WebhookRow, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>, at: Date): string[] {
  const overlapping = hook.previousSecret && hook.previousSecretExpiresAt && hook.previousSecretExpiresAt.getTime() > at.getTime();
  return overlapping ? [hook.secret, hook.previousSecret as string] : [hook.secret];
}

async function succeeded(tx: Executor, a: repo.AttemptRow, outcome: SendOutcome, at: Date): Promise<void> {
  await repo.recordAttempt(tx, a.delivery.id, {
    status: 'succeeded', attempts: a.delivery.attempts + 1, nextAttemptAt: at, lastAttemptAt: at,
    lastStatusCode: outcome.statusCode, lastError: null, deliveredAt: at,
  });
  if (a.webhook.failingSince) await repo.setFailingSince(tx, a.webhook.id, null);
}

async function failed(tx: Executor, a: repo.AttemptRow, outcome: SendOutcome, at: Date, random: () => number): Promise<void> {
  const attempts = a.delivery.attempts + 1;
  const deadline = a.delivery.createdAt.getTime() + RETRY_WINDOW_MS;
  const dead = at.getTime() >= deadline;
  // a receiver's Retry-After (429, 503) is honoured when longer than our own backoff
  const delay = Math.max(backoffMs(attempts, random), (outcome.retryAfterSeconds ?? 0) * 1000);
  await repo.recordAttempt(tx, a.delivery.id, {
    status: dead ? 'dead' : 'failed',
    attempts,
    // the last retry falls on the deadline itself rather than being skipped
    nextAttemptAt: dead ? at : new Date(Math.min(at.getTime() + delay, deadline)),
    lastAttemptAt: at,
    lastStatusCode: outcome.statusCode,
    lastError: (outcome.error ?? 'failed').slice(0, 1000),
    deliveredAt: null,
  });
  const hook = await repo.setFailingSince(tx, a.webhook.id, at);
  if (hook?.enabled && !hook.deletedAt && hook.failingSince && at.getTime() - hook.failingSince.getTime() >= DISABLE_AFTER_MS) {
    await disable(tx, hook, `deliveries failing since ${hook.failingSince.toISOString()}; last error: ${outcome.error ?? 'failed'}`.slice(0, 1000));
  }
}

/** Disabling is a change of the webhook: versioned, audited, and announced as `webhook.disabled`. */
async function disable(tx: Executor, before: WebhookRow, reason: string): Promise<void> {
  const after = await updateWebhook(tx, before.id, { enabled: false, disabledReason: reason });
  const ctx = systemContext('webhook-delivery');
  const b = toWebhookDto(before);
  const a = toWebhookDto(after);
  await recordAudit(tx, ctx, { action: 'disable', entityType: 'webhook', entityId: after.id, before: b, after: a });
  await emit(tx, ctx, { type: 'webhook.disabled', entityType: 'webhook', entityId: after.id, before: b, after: a });
}

/** The steps bound to the server's settings, for the module's workers and the redeliver endpoint. */
export function createDeliveryService({ allowPrivateNetworks }: { allowPrivateNetworks: boolean }) {
  return {
    fanOut: (db: Executor) => fanOutWebhooks(db),
    deliverDue: (db: Executor) => deliverDueWebhooks(db, { allowPrivateNetworks }),
    redeliver: (db: Executor, deliveryId: string) => redeliverNow(db, deliveryId, { allowPrivateNetworks }),
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
