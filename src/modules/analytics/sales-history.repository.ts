import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { dealStageHistory, dealStageSummaries, deals } from '../pipeline/deal.table.js';
import { pipelineStages, pipelines } from '../pipeline/pipeline.table.js';
import { type Interval, MAX_BUCKETS, type Range, STEP, inRange, roundMoney, tsOrNull } from './params.js';

// Sales figures read from the deal stage history (docs/metrics.md "Stage duration", "Forecast
// accuracy"). `scope` is the caller's record scope over deals as SQL, undefined for all.

const and = (scope: SQL | undefined) => (scope ? sql`AND (${scope})` : sql``);

/**
 * `dealId` is a live deal in the scope. In a scope: a semi-join on the scope's deals (the owner and team
 * indexes find them). Without one: an anti-join on the deleted deals (a small partial index), instead
 * of hashing every live deal of the table to keep nearly all of them.
 */
export const liveDeal = (dealId: SQL, scope: SQL | undefined): SQL => (scope
  ? sql`${dealId} IN (SELECT ${deals.id} FROM ${deals} WHERE ${deals.deletedAt} IS NULL AND (${scope}))`
  : sql`NOT EXISTS (SELECT 1 FROM ${deals} WHERE ${deals.id} = ${dealId} AND ${deals.deletedAt} IS NOT NULL)`);

export interface StageDurationRow {
  pipeline_id: string;
  pipeline_name: string;
  stage_id: string;
  stage_name: string;
  position: number;
  stays: string | number;
  average: number | null;
  median: number | null;
  current: string | number;
}

const US_PER_DAY = sql.raw('86400000000');

/**
 * Per open-kind stage: the stays that ended in the range (a stay runs from the history entry that
 * entered the stage to the next entry of the same deal), in days; and the open deals in it now.
 * A stay is one row: the entry that left the stage (fromStageId) and the time of the entry before it
 * (previousChangedAt, kept by a trigger), so only the entries of the range are read; they are
 * aggregated per stage before the stages are joined. A stay's length is taken in whole microseconds
 * (what a timestamptz holds, exact in a float8 up to 285 years) and turned into days once per stage:
 * the exact sum as numeric for the average, the float8 median of bigints. Days as numeric per stay
 * (extract(epoch)/86400.0) cost twice the CPU, half of it in numeric division and numeric-to-float8
 * casts, for the same answers (456 k stays at 1 M deals: 2.5 s → 1.2 s of one backend, load 12).
 */
export async function stageDuration(db: Executor, o: { range: Range; scope: SQL | undefined; pipelineId?: string | undefined }): Promise<StageDurationRow[]> {
  const h = dealStageHistory;
  const query = sql`
    WITH ended AS (
      SELECT ${h.fromStageId} AS stage_id, (date_part('epoch', ${h.changedAt} - ${h.previousChangedAt}) * 1000000)::bigint AS us
      FROM ${h}
      WHERE ${h.fromStageId} IS NOT NULL AND ${h.previousChangedAt} IS NOT NULL AND ${inRange(sql`${h.changedAt}`, o.range)}
        AND ${liveDeal(sql`${h.dealId}`, o.scope)}),
    per_stage AS (SELECT stage_id, count(us) AS stays, round(sum(us)::numeric / count(us) / ${US_PER_DAY}, 2)::float8 AS average,
                         round((percentile_cont(0.5) WITHIN GROUP (ORDER BY us))::numeric / ${US_PER_DAY}, 2)::float8 AS median
                  FROM ended GROUP BY stage_id),
    now_in AS (SELECT ${deals.stageId} AS stage_id, count(*) AS n FROM ${deals}
               WHERE ${deals.deletedAt} IS NULL AND ${deals.status} = 'open' ${and(o.scope)} GROUP BY 1)
    SELECT p.id AS pipeline_id, p.name AS pipeline_name, st.id AS stage_id, st.name AS stage_name, st.position,
           coalesce(e.stays, 0) AS stays, e.average, e.median, coalesce(n.n, 0) AS current
    FROM ${pipelines} p
      JOIN ${pipelineStages} st ON st.pipeline_id = p.id AND st.kind = 'open' AND st.deleted_at IS NULL
      LEFT JOIN per_stage e ON e.stage_id = st.id
      LEFT JOIN now_in n ON n.stage_id = st.id
    WHERE p.deleted_at IS NULL ${o.pipelineId ? sql`AND p.id = ${o.pipelineId}` : sql``}
    ORDER BY p.name, p.id, st.position, st.id`;
  return (await queryRows<StageDurationRow>(db, query)).rows;
}

export interface ForecastAccuracyRow {
  /** null on the totals over every period */
  period: string | null;
  currency: string | null;
  forecast_deals: string | number;
  forecast_amount: string | null;
  weighted: string | null;
  forecast_won: string | number;
  won_deals: string | number;
  won_amount: string | null;
  accuracy: number | null;
}

/**
 * Per bucket and currency: the forecast as it stood when the bucket began (deals open then, in an open
 * stage then — from the stage history — expected to close within the bucket, weighted by that stage's
 * probability) beside the deals won within the bucket. The forecast deals are read from the deal stage
 * summaries (kept by triggers), whose path gives the stage at the start without a join to the history: the
 * last entry before it, found by width_bucket over the entries' times (sorted, a binary search; times are
 * whole microseconds, so `changedAt < start` is `changedAt <= start - 1 µs`, the bound width_bucket counts).
 * `scope` is over deals (the won deals, the data's span), `summaryScope` the same rule over the summaries.
 */
export async function forecastAccuracy(
  db: Executor, o: { range: Range; scope: SQL | undefined; summaryScope: SQL | undefined; interval: Interval; timeZone: string },
): Promise<ForecastAccuracyRow[]> {
  const tz = o.timeZone;
  const step = sql`${STEP[o.interval]}::interval`;
  const s = dealStageSummaries;
  const money = sql`${deals.amount} IS NOT NULL AND ${deals.currency} IS NOT NULL AND ${deals.deletedAt} IS NULL ${and(o.scope)}`;
  // Without a range the buckets span the data: expected close dates and wins. Each minimum is read from
  // the front of an index (deals_forecast_idx, deals_closed_figures_idx) instead of one aggregate scanning
  // every deal. The earliest local close time is among the closes of the first 25 hours: local time only
  // runs backwards at a zone's shift back (an hour or two), so a later instant cannot be earlier locally.
  const firstClose = sql`(SELECT min(${deals.closedAt}) FROM ${deals} WHERE ${money})`;
  const lo = sql`date_trunc(${o.interval}, coalesce(${tsOrNull(o.range.from)} AT TIME ZONE ${tz}, least(
    (SELECT min(${deals.expectedCloseDate}) FROM ${deals} WHERE ${money})::timestamp,
    (SELECT min(${deals.closedAt} AT TIME ZONE ${tz}) FROM ${deals}
     WHERE ${money} AND ${deals.closedAt} >= ${firstClose} AND ${deals.closedAt} < ${firstClose} + interval '25 hours'))))`;
  const hi = sql`coalesce(${tsOrNull(o.range.to)} AT TIME ZONE ${tz}, now() AT TIME ZONE ${tz}) - interval '1 microsecond'`;
  const query = sql`
    WITH k AS (SELECT gs AS b FROM generate_series(${lo}, ${hi}, ${step}) gs LIMIT ${MAX_BUCKETS + 1}),
    p AS (SELECT b, b AT TIME ZONE ${tz} AS starts, (b + ${step}) AT TIME ZONE ${tz} AS ends FROM k),
    f AS (SELECT p.b, ${s.currency} AS currency, count(*) AS n, sum(${s.amount}) AS amount,
                 sum(${s.amount} * st.probability / 100.0) AS weighted,
                 count(*) FILTER (WHERE ${s.status} = 'won' AND ${s.closedAt} < p.ends) AS won
          FROM p JOIN ${s} ON ${s.deletedAt} IS NULL AND ${s.amount} IS NOT NULL AND ${s.currency} IS NOT NULL ${and(o.summaryScope)}
            AND ${s.createdAt} < p.starts AND (${s.closedAt} IS NULL OR ${s.closedAt} >= p.starts)
            AND ${s.expectedCloseDate} >= p.b::date AND ${s.expectedCloseDate} < (p.b + ${step})::date
          JOIN ${pipelineStages} st
            ON st.id = ${s.enteredStageIds}[width_bucket(p.starts - interval '1 microsecond', ${s.enteredAt})] AND st.kind = 'open'
          GROUP BY 1, 2),
    w AS (SELECT p.b, ${deals.currency} AS currency, count(*) AS n, sum(${deals.amount}) AS amount
          FROM p JOIN ${deals} ON ${money} AND ${deals.status} = 'won' AND ${deals.closedAt} >= p.starts AND ${deals.closedAt} < p.ends
          GROUP BY 1, 2),
    fw AS (SELECT b, currency, n AS fn, amount AS fa, weighted, won AS fwon, 0 AS wn, 0 AS wa FROM f
           UNION ALL SELECT b, currency, 0, 0, 0, 0, n, amount FROM w)
    SELECT to_char(p.b, 'YYYY-MM-DD') AS period, fw.currency,
           coalesce(sum(fw.fn), 0) AS forecast_deals, sum(fw.fa)::text AS forecast_amount,
           ${roundMoney(sql`sum(fw.weighted)`, sql`fw.currency`)}::text AS weighted,
           coalesce(sum(fw.fwon), 0) AS forecast_won, coalesce(sum(fw.wn), 0) AS won_deals, sum(fw.wa)::text AS won_amount,
           (sum(fw.wa) / nullif(sum(fw.weighted), 0))::float8 AS accuracy
    FROM p LEFT JOIN fw ON fw.b = p.b
    GROUP BY GROUPING SETS ((p.b, fw.currency), (fw.currency)) ORDER BY p.b NULLS FIRST, fw.currency`;
  return (await queryRows<ForecastAccuracyRow>(db, query)).rows;
}
