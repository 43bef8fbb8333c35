import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { deals } from './deal.table.js';
import { pipelineStages } from './pipeline.table.js';

// Queries only: the forecast's two statements. Periods are calendar months or quarters in UTC.

export type GroupColumn = 'owner' | 'pipeline' | 'team';

const GROUP_EXPR: Record<GroupColumn, SQL> = {
  owner: sql`${deals.ownerId}::text`,
  pipeline: sql`${deals.pipelineId}::text`,
  team: sql`${deals.teamId}::text`,
};

/** The day a deal counts on: open deals by expected close date, won deals by the UTC day they closed. */
const dayOf = sql`CASE WHEN ${deals.status} = 'open' THEN ${deals.expectedCloseDate} ELSE (${deals.closedAt} AT TIME ZONE 'UTC')::date END`;

const counted = (scope: SQL | undefined) => sql`${deals.deletedAt} IS NULL
  AND ((${deals.status} = 'open' AND ${deals.expectedCloseDate} IS NOT NULL) OR (${deals.status} = 'won' AND ${deals.closedAt} IS NOT NULL))
  ${scope ? sql`AND (${scope})` : sql``}`;

/** The earliest and latest day any counted deal falls on; nulls when there is none. */
export async function forecastRange(db: Executor, scope: SQL | undefined): Promise<{ first: string | null; last: string | null }> {
  const { rows } = await queryRows<{ first: string | null; last: string | null }>(
    db,
    sql`SELECT min(${dayOf})::text AS first, max(${dayOf})::text AS last FROM ${deals} WHERE ${counted(scope)}`,
  );
  return rows[0] ?? { first: null, last: null };
}

export interface ForecastRow {
  part: 'open' | 'won';
  /** period start YYYY-MM-DD; null on the totals rows */
  period: string | null;
  /** group key; only on group rows (`grouped` true), and then null means "none" */
  key: string | null;
  grouped: boolean;
  currency: string | null;
  n: string | number;
  /** sum of amounts at full precision; null when no deal of the row has one */
  amount: string | null;
  /** sum of amount × probability / 100, rounded to the currency's minor units */
  weighted: string | null;
}

/**
 * One statement for the whole forecast: deals of [start, end) aggregated per period and currency,
 * per period, currency and group key (with groupBy), and per currency over the range (totals), through
 * GROUPING SETS. Amounts are summed per currency in numeric, never across currencies.
 * `minorUnits` maps currencies whose minor units are not 2 to theirs (JSON object).
 */
export async function forecastRows(
  db: Executor,
  o: { start: string; end: string; unit: 'month' | 'quarter'; groupBy?: GroupColumn | undefined; scope: SQL | undefined; minorUnits: string },
): Promise<ForecastRow[]> {
  const key = o.groupBy ? GROUP_EXPR[o.groupBy] : sql`NULL::text`;
  const sets = o.groupBy
    ? sql`(part, period, currency, key), (part, period, currency), (part, currency)`
    : sql`(part, period, currency), (part, currency)`;
  const query = sql`
    WITH d AS (
      SELECT ${deals.status} AS part,
             date_trunc(${o.unit}, (${dayOf})::timestamp)::date AS period,
             ${key} AS key,
             ${deals.currency} AS currency,
             ${deals.amount} AS amount,
             ${deals.amount} * ${pipelineStages.probability} / 100 AS weighted
      FROM ${deals} JOIN ${pipelineStages} ON ${pipelineStages.id} = ${deals.stageId}
      WHERE ${counted(o.scope)}
        AND ${dayOf} >= ${o.start}::date AND ${dayOf} < ${o.end}::date
    )
    SELECT part, period::text AS period, ${o.groupBy ? sql`key, GROUPING(key) = 0` : sql`NULL::text AS key, false`} AS grouped, currency,
           count(*) AS n, sum(amount)::text AS amount,
           round(sum(weighted), coalesce((${o.minorUnits}::jsonb ->> currency)::int, 2))::text AS weighted
    FROM d
    GROUP BY GROUPING SETS (${sets})`;
  return (await queryRows<ForecastRow>(db, query)).rows;
}
