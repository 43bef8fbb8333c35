import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { activities } from '../customer/activity.table.js';
import { deals } from '../pipeline/deal.table.js';
import { tickets } from '../service/ticket.table.js';
import { type Range, inRange } from './params.js';

// Team performance (docs/metrics.md "Team performance"): per owner (assignee for tickets) or team, in
// one statement of up to three parts; a part is left out when the caller may not read its area.

export const TEAM_GROUP_BY = ['owner', 'team'] as const;
export type TeamGroupBy = (typeof TEAM_GROUP_BY)[number];

export interface TeamOptions {
  range: Range;
  groupBy: TeamGroupBy;
  /** per part: undefined = left out; { scope } = included, limited by the scope (undefined: all) */
  deals?: { scope: SQL | undefined } | undefined;
  activities?: { scope: SQL | undefined } | undefined;
  tickets?: { scope: SQL | undefined } | undefined;
}

export interface TeamRow {
  part: 'deal' | 'activity' | 'ticket';
  key: string | null;
  currency: string | null;
  n: string | number;
  /** deals: won amount; tickets: median first response minutes */
  value: string | null;
}

const and = (scope: SQL | undefined) => (scope ? sql`AND (${scope})` : sql``);

export async function performance(db: Executor, o: TeamOptions): Promise<TeamRow[]> {
  const owner = o.groupBy === 'owner';
  const parts: SQL[] = [];
  if (o.deals) {
    parts.push(sql`SELECT 'deal' AS part, ${owner ? deals.ownerId : deals.teamId}::text AS key, ${deals.currency} AS currency,
        count(*) AS n, sum(${deals.amount})::text AS value
      FROM ${deals} WHERE ${deals.deletedAt} IS NULL AND ${deals.status} = 'won' AND ${deals.closedAt} IS NOT NULL
        AND ${inRange(sql`${deals.closedAt}`, o.range)} ${and(o.deals.scope)}
      GROUP BY 2, 3`);
  }
  if (o.activities) {
    parts.push(sql`SELECT 'activity' AS part, ${owner ? activities.ownerId : activities.teamId}::text AS key, NULL AS currency, count(*) AS n, NULL AS value
      FROM ${activities} WHERE ${activities.deletedAt} IS NULL AND ${inRange(sql`${activities.occurredAt}`, o.range)} ${and(o.activities.scope)}
      GROUP BY 2`);
  }
  if (o.tickets) {
    const created = inRange(sql`${tickets.createdAt}`, o.range);
    const solved = sql`${tickets.solvedAt} IS NOT NULL AND ${inRange(sql`${tickets.solvedAt}`, o.range)}`;
    const fr = sql`extract(epoch FROM ${tickets.firstRespondedAt} - ${tickets.createdAt}) / 60.0`;
    // every part names its columns: the first part present names the union's
    parts.push(sql`SELECT 'ticket' AS part, ${owner ? tickets.assigneeId : tickets.teamId}::text AS key, NULL AS currency, count(*) FILTER (WHERE ${solved}) AS n,
        round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ${fr}) FILTER (WHERE ${created} AND ${tickets.firstRespondedAt} IS NOT NULL))::numeric, 2)::text AS value
      FROM ${tickets} WHERE ${tickets.deletedAt} IS NULL AND ((${created}) OR (${solved})) ${and(o.tickets.scope)}
      GROUP BY 2`);
  }
  if (!parts.length) return [];
  const query = sql`SELECT * FROM (${sql.join(parts, sql` UNION ALL `)}) x ORDER BY key NULLS LAST, part, currency NULLS FIRST`;
  return (await queryRows<TeamRow>(db, query)).rows;
}
