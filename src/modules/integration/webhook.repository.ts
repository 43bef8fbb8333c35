import { and, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { events } from '../../platform/events/event.table.js';
import { DELIVERY_STATUSES, type WebhookDeliveryRow, type WebhookRow, webhookDeliveries as d, webhooks as w } from './webhook.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

type WebhookInsert = typeof w.$inferInsert;
export type DeliveryWithType = WebhookDeliveryRow & { eventType: string };

export const webhookCollection: CollectionSpec = {
  id: { expr: w.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'createdAt',
  fields: {
    id: { expr: w.id, type: 'uuid', nullable: false, sortable: true },
    url: { expr: w.url, type: 'string', nullable: false, sortable: true },
    enabled: { expr: w.enabled, type: 'boolean', nullable: false },
    description: { expr: w.description, type: 'string', nullable: true },
    failingSince: { expr: w.failingSince, type: 'datetime', nullable: true },
    createdAt: { expr: w.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: w.updatedAt, type: 'datetime', nullable: false, sortable: true },
  },
};
export const webhookSortable = Object.entries(webhookCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const webhookFilterable = Object.keys(webhookCollection.fields);

export const deliveryCollection: CollectionSpec = {
  id: { expr: d.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: d.id, type: 'uuid', nullable: false, sortable: true },
    eventId: { expr: d.eventId, type: 'uuid', nullable: false },
    eventType: { expr: events.type, type: 'string', nullable: false },
    status: { expr: d.status, type: 'enum', values: DELIVERY_STATUSES, nullable: false },
    attempts: { expr: d.attempts, type: 'integer', nullable: false },
    createdAt: { expr: d.createdAt, type: 'datetime', nullable: false, sortable: true },
  },
};
export const deliverySortable = Object.entries(deliveryCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const deliveryFilterable = Object.keys(deliveryCollection.fields);

export async function findWebhook(db: Executor, id: string): Promise<WebhookRow | undefined> {
  const rows = await db.select().from(w).where(eq(w.id, id)).limit(1);
  return rows[0];
}

export async function lockWebhook(tx: Executor, id: string): Promise<WebhookRow | undefined> {
  const rows = await tx.select().from(w).where(eq(w.id, id)).for('update');
  return rows[0];
}

export async function listWebhooks(db: Executor, list: CompiledList, includeDeleted: boolean): Promise<WebhookRow[]> {
  return db
    .select()
    .from(w)
    .where(and(list.where, includeDeleted ? undefined : isNull(w.deletedAt)))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function insertWebhook(tx: Executor, values: WebhookInsert): Promise<WebhookRow> {
  const rows = await tx.insert(w).values(values).returning();
  return rows[0] as WebhookRow;
}

export async function updateWebhook(tx: Executor, id: string, values: Partial<WebhookInsert>): Promise<WebhookRow> {
  const rows = await tx
    .update(w)
    .set({ ...values, version: sql`${w.version} + 1`, updatedAt: sql`now()` })
    .where(eq(w.id, id))
    .returning();
  return rows[0] as WebhookRow;
}

const withType = { ...getTableColumns(d), eventType: events.type };

export async function listDeliveries(db: Executor, webhookId: string, list: CompiledList): Promise<DeliveryWithType[]> {
  return db
    .select(withType)
    .from(d)
    .innerJoin(events, eq(events.id, d.eventId))
    .where(and(eq(d.webhookId, webhookId), list.where))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function findDelivery(db: Executor, webhookId: string, id: string): Promise<DeliveryWithType | undefined> {
  const rows = await db
    .select(withType)
    .from(d)
    .innerJoin(events, eq(events.id, d.eventId))
    .where(and(eq(d.webhookId, webhookId), eq(d.id, id)))
    .limit(1);
  return rows[0];
}
