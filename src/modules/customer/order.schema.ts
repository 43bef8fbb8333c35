import { z } from 'zod';
import { Timestamp, Uuid, recordFields, iso } from '../../platform/http/common.schema.js';
import { currencyCode, decimalString, formatMoney } from '../../platform/http/money.js';
import { MAX_BATCH } from '../../platform/http/batch.js';
import { ORDER_STATUSES, type OrderRow } from './order.table.js';

export const MAX_ORDER_LINES = 500;

const Instant = z.iso.datetime({ offset: true });

/** Quantities are exact like money: at most 4 decimals (numeric(19,4)), so Σ quantity × unitPrice is exact too. */
const Quantity = z
  .number()
  .positive()
  .max(1_000_000_000)
  .refine((q) => /^\d+(\.\d{1,4})?$/.test(String(q)), 'must have at most 4 decimals');

export const OrderLineInput = z
  .object({
    sku: z.string().trim().min(1).max(200).nullable().optional(),
    name: z.string().trim().min(1).max(500),
    quantity: Quantity,
    unitPrice: decimalString.describe("at most the currency's minor units; negative for discount lines"),
  })
  .strict()
  .meta({ id: 'OrderLineCreate' });

export type OrderLineInputValue = z.infer<typeof OrderLineInput>;

const writable = {
  externalId: z.string().trim().min(1).max(200).nullable().describe('the id in the source system; unique among live orders (the upsert key)'),
  contactId: Uuid.describe('a live contact'),
  status: z.enum(ORDER_STATUSES),
  total: decimalString
    .refine((v) => !v.startsWith('-'), 'must not be negative')
    .describe("exact to the currency's minor unit (KWD 3 decimals, JPY 0); equals Σ quantity × unitPrice when lines are given"),
  currency: currencyCode,
  placedAt: Instant.describe('when the customer placed it; defaults to now'),
  lines: z.array(OrderLineInput).max(MAX_ORDER_LINES).describe(`replaced whole when written; at most ${MAX_ORDER_LINES}`),
};

export const OrderCreate = z
  .object(writable)
  .partial()
  .required({ contactId: true, total: true, currency: true })
  .strict()
  .meta({ id: 'OrderCreate', description: 'status defaults to pending, placedAt to now, lines to none' });

export const OrderPatch = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'OrderPatch', description: 'JSON merge patch: absent leaves a field; lines, when given, replace all lines' });

export type OrderCreateInput = z.infer<typeof OrderCreate>;
export type OrderPatchInput = z.infer<typeof OrderPatch>;

export const OrderStatus = z.enum(ORDER_STATUSES).meta({ id: 'OrderStatus' });

export const OrderLine = z
  .object({
    sku: z.string().nullable(),
    name: z.string(),
    quantity: z.number(),
    unitPrice: z.string().describe("a decimal string with the currency's minor units"),
  })
  .meta({ id: 'OrderLine' });

export const Order = z
  .object({
    ...recordFields,
    externalId: z.string().nullable(),
    contactId: Uuid,
    status: OrderStatus,
    total: z.string().describe("a decimal string with exactly the currency's minor units"),
    currency: z.string(),
    placedAt: Timestamp,
    lines: z.array(OrderLine).describe('in the order they were written'),
  })
  .meta({ id: 'Order' });

export type OrderDto = z.infer<typeof Order>;
export type OrderLineDto = z.infer<typeof OrderLine>;

export const orderFieldNames = Object.keys(Order.shape);

export const OrderList = z.object({ data: z.array(Order), nextCursor: z.string().nullable() }).meta({ id: 'OrderList' });

export const OrderId = z.object({ id: Uuid });

/** A stored line as the repository reads it: numerics as text, never floats. */
export interface StoredLine {
  sku: string | null;
  name: string;
  quantity: string;
  unitPrice: string;
}

/** An order row with its lines in position order. */
export type OrderRecord = OrderRow & { lines: StoredLine[] };

export function toOrderLineDto(l: StoredLine, currency: string): OrderLineDto {
  return { sku: l.sku, name: l.name, quantity: Number(l.quantity), unitPrice: formatMoney(l.unitPrice, currency) as string };
}

export function toOrderDto(r: OrderRecord): OrderDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    externalId: r.externalId,
    contactId: r.contactId,
    status: r.status,
    total: formatMoney(r.total, r.currency) as string,
    currency: r.currency,
    placedAt: r.placedAt.toISOString(),
    lines: r.lines.map((l) => toOrderLineDto(l, r.currency)),
  };
}

/** `id` or `externalId`: how batch records find the order they mean. */
export const OrderIdProperty = z.enum(['id', 'externalId']).describe('How records are matched: id or externalId; default id');

export const OrderBatch = z
  .object({
    operation: z.enum(['create', 'update', 'upsert', 'delete']),
    idProperty: OrderIdProperty.optional(),
    records: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_BATCH),
    atomic: z.boolean().optional().describe('true: all records commit or none'),
  })
  .strict()
  .meta({ id: 'OrderBatch' });
