import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { campaignEvents, campaignRecipients, campaigns } from '../marketing/campaign.table.js';
import { firstOrders } from './customers.repository.js';
import { type Range, inRange, roundMoney } from './params.js';

// The marketing figures' statements (docs/metrics.md "Marketing"). A campaign belongs to the range by
// when it started sending, or was created when it never sent (ads, events). Campaigns are "r all" for
// every role that may read these figures.

const dated = (range: Range): SQL =>
  sql`${campaigns.deletedAt} IS NULL AND ${inRange(sql`coalesce(${campaigns.startedAt}, ${campaigns.createdAt})`, range)}`;

export interface CampaignFigureRow {
  id: string; name: string; channel: string; status: string; at: Date | string;
  spend: string | null; currency: string | null; cost: string | null;
  sent: number; delivered: number; opened: number; clicked: number; converted: number; unsubscribed: number; bounced: number;
  revenue: Record<string, string> | null;
}

/** Per campaign in the range: messages sent, and distinct contacts per engagement, in one statement. */
export async function campaignFigures(db: Executor, range: Range): Promise<CampaignFigureRow[]> {
  const res = await queryRows<CampaignFigureRow>(db, sql`
    WITH c AS (
      SELECT ${campaigns.id} AS id, ${campaigns.name} AS name, ${campaigns.channel} AS channel, ${campaigns.status} AS status,
             coalesce(${campaigns.startedAt}, ${campaigns.createdAt}) AS at, ${campaigns.spend} AS spend_n, ${campaigns.currency} AS currency
      FROM ${campaigns} WHERE ${dated(range)}),
    r AS (SELECT campaign_id, count(*) AS sent FROM ${campaignRecipients}
          WHERE status = 'sent' AND campaign_id IN (SELECT id FROM c) GROUP BY 1),
    f AS (SELECT campaign_id, contact_id, bool_or(type = 'delivered') AS d, bool_or(type = 'opened') AS o, bool_or(type = 'clicked') AS k,
                 bool_or(type = 'converted') AS v, bool_or(type = 'unsubscribed') AS u, bool_or(type = 'bounced') AS b
          FROM ${campaignEvents} WHERE campaign_id IN (SELECT id FROM c) GROUP BY 1, 2),
    e AS (SELECT campaign_id, count(*) FILTER (WHERE d AND NOT b) AS delivered, count(*) FILTER (WHERE o) AS opened,
                 count(*) FILTER (WHERE k) AS clicked, count(*) FILTER (WHERE v) AS converted,
                 count(*) FILTER (WHERE u) AS unsubscribed, count(*) FILTER (WHERE b) AS bounced
          FROM f GROUP BY 1),
    m AS (SELECT campaign_id, jsonb_object_agg(currency, total::text) AS revenue FROM (
            SELECT campaign_id, currency, sum(amount) AS total FROM ${campaignEvents}
            WHERE type = 'converted' AND currency IS NOT NULL AND campaign_id IN (SELECT id FROM c) GROUP BY 1, 2) x GROUP BY 1)
    SELECT c.id, c.name, c.channel, c.status, c.at, c.currency, c.spend_n::text AS spend,
           CASE WHEN coalesce(e.converted, 0) = 0 OR c.spend_n IS NULL THEN NULL
                ELSE ${roundMoney(sql`c.spend_n / e.converted`, sql`c.currency`)}::text END AS cost,
           coalesce(r.sent, 0)::int AS sent, coalesce(e.delivered, 0)::int AS delivered, coalesce(e.opened, 0)::int AS opened,
           coalesce(e.clicked, 0)::int AS clicked, coalesce(e.converted, 0)::int AS converted,
           coalesce(e.unsubscribed, 0)::int AS unsubscribed, coalesce(e.bounced, 0)::int AS bounced, m.revenue
    FROM c LEFT JOIN r ON r.campaign_id = c.id LEFT JOIN e ON e.campaign_id = c.id LEFT JOIN m ON m.campaign_id = c.id
    ORDER BY c.at, c.id`);
  return res.rows;
}

export interface AcquisitionRow { currency: string | null; spend: string | null; new_customers: number; cost: string | null }

/**
 * Spend of the campaigns in the range per currency, the customers acquired in it (first counted
 * order in the range), and spend ÷ customers rounded to the currency's minor units.
 */
export async function acquisitionCost(db: Executor, range: Range): Promise<{ newCustomers: number; rows: AcquisitionRow[] }> {
  const res = await queryRows<AcquisitionRow>(db, sql`
    WITH n AS (SELECT count(*)::int AS n FROM (${firstOrders(range)}) f),
         s AS (SELECT ${campaigns.currency} AS currency, sum(${campaigns.spend}) AS spend FROM ${campaigns}
               WHERE ${dated(range)} AND ${campaigns.spend} IS NOT NULL AND ${campaigns.currency} IS NOT NULL GROUP BY 1)
    SELECT s.currency, s.spend::text AS spend, n.n AS new_customers,
           CASE WHEN n.n = 0 THEN NULL ELSE ${roundMoney(sql`s.spend / n.n`, sql`s.currency`)}::text END AS cost
    FROM n LEFT JOIN s ON TRUE ORDER BY s.currency`);
  return { newCustomers: res.rows[0]?.new_customers ?? 0, rows: res.rows.filter((r) => r.currency !== null) };
}
