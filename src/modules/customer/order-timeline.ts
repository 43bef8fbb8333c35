import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { can } from '../../platform/auth/permissions.js';
import { Timestamp } from '../../platform/http/common.schema.js';
import { formatMoney } from '../../platform/http/money.js';
import { loyaltyBalances } from './loyalty.table.js';
import { orders } from './order.table.js';
import { linesOf } from './order.repository.js';
import { type StoredLine, toOrderLineDto } from './order.schema.js';
import type { ContactDto } from './contact.schema.js';
import type { TimelineItem, TimelineSource, View360Part } from './timeline.service.js';
import type { TimelineRow } from './timeline.repository.js';

// Orders and loyalty on the contact's timeline and 360 view (API.md §5).
// Business rules of the 360 figures:
//  - orders.count / orders.total / orders.lastPlacedAt: live orders except cancelled and refunded ones
//    (they are not purchases), totals per currency (never added across currencies);
//  - lifetimeValue: paid and fulfilled orders only (money actually received), per currency;
//  - loyaltyBalance: the ledger's balance, 0 before the first transaction.
// All three come from ONE statement, shared by the three parts of one 360 call.

const iso = (col: unknown) => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const NOT_PURCHASES = sql`('cancelled', 'refunded')`;

/** An order placed, on the contact's timeline (occurredAt = placedAt). Orders belong to contacts, so company timelines have none. */
export const orderTimelineSource: TimelineSource = {
  kinds: ['order'],
  branch(ctx: RequestContext, subject, keyset, fetch): SQL | undefined {
    if (subject.entityType !== 'contact' || !can(ctx.actor, 'orders', 'read')) return undefined;
    const o = orders;
    return sql`
      SELECT 'order'::text, ${o.placedAt}, ${o.id}, 'order'::text, ${o.id},
             jsonb_build_object(
               'id', ${o.id}, 'createdAt', ${iso(o.createdAt)}, 'updatedAt', ${iso(o.updatedAt)}, 'version', ${o.version},
               'deletedAt', NULL, 'externalId', ${o.externalId}, 'contactId', ${o.contactId}, 'status', ${o.status},
               'total', ${o.total}::text, 'currency', ${o.currency}, 'placedAt', ${iso(o.placedAt)}, 'lines', ${linesOf()}::jsonb),
             NULL::jsonb, NULL::jsonb
        FROM ${o}
       WHERE ${o.contactId} = ${subject.id}::uuid AND ${o.deletedAt} IS NULL ${keyset(o.placedAt, 'order', o.id)}
       ORDER BY ${o.placedAt} DESC, ${o.id} DESC
       LIMIT ${fetch}`;
  },
  toItem(r: TimelineRow): TimelineItem {
    const d = r.record ?? {};
    const currency = String(d.currency);
    const total = formatMoney(String(d.total), currency);
    const lines = ((d.lines ?? []) as StoredLine[]).map((l) => toOrderLineDto(l, currency));
    const name = typeof d.externalId === 'string' ? d.externalId : r.entity_id;
    return {
      type: 'order', occurredAt: r.occurred_at, entityType: 'order', entityId: r.entity_id,
      summary: `Order ${name} placed: ${total} ${currency} (${String(d.status)})`, data: { ...d, total, lines },
    };
  },
};

const MoneyByCurrency = z.record(z.string(), z.string()).describe('decimal strings keyed by ISO 4217 currency; never summed across currencies');

export const Contact360Orders = z
  .object({
    count: z.number().int().describe('live orders, cancelled and refunded ones excluded'),
    total: MoneyByCurrency,
    lastPlacedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Contact360Orders' });

interface Figures {
  orders: z.infer<typeof Contact360Orders>;
  lifetimeValue: Record<string, string>;
  loyaltyBalance: number;
}

interface CurrencyRow {
  currency: string;
  n: number;
  total: string | null;
  ltv: string | null;
  last: string | null;
}

/** The three figures in one statement: order aggregates per currency and the loyalty balance. */
async function loadFigures(db: Executor, contactId: string): Promise<Figures> {
  const o = orders;
  const { rows } = await queryRows<{ loyalty: number | null; currencies: CurrencyRow[] }>(db, sql`
    SELECT (SELECT ${loyaltyBalances.balance} FROM ${loyaltyBalances} WHERE ${loyaltyBalances.contactId} = ${contactId}::uuid) AS loyalty,
           coalesce((SELECT json_agg(g ORDER BY g.currency) FROM (
             SELECT ${o.currency} AS currency,
                    (count(*) FILTER (WHERE ${o.status} NOT IN ${NOT_PURCHASES}))::int AS n,
                    (sum(${o.total}) FILTER (WHERE ${o.status} NOT IN ${NOT_PURCHASES}))::text AS total,
                    (sum(${o.total}) FILTER (WHERE ${o.status} IN ('paid', 'fulfilled')))::text AS ltv,
                    ${iso(sql`max(${o.placedAt}) FILTER (WHERE ${o.status} NOT IN ${NOT_PURCHASES})`)} AS last
               FROM ${o}
              WHERE ${o.contactId} = ${contactId}::uuid AND ${o.deletedAt} IS NULL
              GROUP BY ${o.currency}) g), '[]'::json) AS currencies`);
  const row = rows[0];
  const currencies = row?.currencies ?? [];
  const total: Record<string, string> = {};
  const lifetimeValue: Record<string, string> = {};
  let count = 0;
  let lastPlacedAt: string | null = null;
  for (const c of currencies) {
    count += Number(c.n);
    if (c.total !== null && Number(c.n) > 0) total[c.currency] = formatMoney(c.total, c.currency) as string;
    if (c.ltv !== null) lifetimeValue[c.currency] = formatMoney(c.ltv, c.currency) as string;
    if (c.last !== null && (lastPlacedAt === null || c.last > lastPlacedAt)) lastPlacedAt = c.last;
  }
  return { orders: { count, total, lastPlacedAt }, lifetimeValue, loyaltyBalance: row?.loyalty ?? 0 };
}

/** orders, lifetimeValue and loyaltyBalance of the 360 view; the three share one statement per 360 call. */
export function order360Parts(db: Executor): View360Part[] {
  // view360 hands the same contact object to every part: one load per call, gone with the call
  const loads = new WeakMap<ContactDto, Promise<Figures>>();
  const figures = (contact: ContactDto) => {
    let p = loads.get(contact);
    if (!p) loads.set(contact, (p = loadFigures(db, contact.id)));
    return p;
  };
  return [
    {
      key: 'orders',
      schema: Contact360Orders.optional().describe('count, totals per currency and last order date; cancelled and refunded orders excluded'),
      load: async (ctx, contact) => (can(ctx.actor, 'orders', 'read') ? (await figures(contact)).orders : undefined),
    },
    {
      key: 'lifetimeValue',
      schema: MoneyByCurrency.optional().describe('sum of paid and fulfilled orders per currency'),
      load: async (ctx, contact) => (can(ctx.actor, 'orders', 'read') ? (await figures(contact)).lifetimeValue : undefined),
    },
    {
      key: 'loyaltyBalance',
      schema: z.number().int().optional().describe('loyalty points; 0 before the first transaction'),
      load: async (ctx, contact) => (can(ctx.actor, 'loyalty', 'read') ? (await figures(contact)).loyaltyBalance : undefined),
    },
  ];
}
