import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { dealStageSummaries, deals } from '../pipeline/deal.table.js';
import { leads } from '../pipeline/lead.table.js';
import { pipelineStages, pipelines } from '../pipeline/pipeline.table.js';
import type { FigureQuery } from './figure-query.js';
import { type Interval, type Range, bucketOf, inRange, roundMoney } from './params.js';

// The sales figures' statements (docs/metrics.md "Sales"), read-only over the pipeline module's tables.
// `scope` is the caller's record scope over deals (or leads) as SQL, undefined for all.

export const SALES_GROUP_BY = ['owner', 'pipeline', 'team'] as const;
export type SalesGroupBy = (typeof SALES_GROUP_BY)[number];
const KEY: Record<SalesGroupBy, SQL> = { owner: sql`${deals.ownerId}`, pipeline: sql`${deals.pipelineId}`, team: sql`${deals.teamId}` };

export interface SalesOptions {
  range: Range;
  scope: SQL | undefined;
  groupBy?: SalesGroupBy | undefined;
  interval?: Interval | undefined;
  timeZone: string;
}

const and = (scope: SQL | undefined) => (scope ? sql`AND (${scope})` : sql``);
const days = sql`extract(epoch FROM ${deals.closedAt} - ${deals.createdAt}) / 86400.0`;

/** Live closed deals of the statuses, closed within the range. */
function closedDeals(o: SalesOptions, statuses: SQL, extra: SQL = sql``): SQL {
  return sql`SELECT ${deals.status} AS status, ${deals.amount} AS amount, ${deals.currency} AS currency, ${days} AS days
      ${o.groupBy ? sql`, ${KEY[o.groupBy]} AS key` : sql``}
      ${o.interval ? sql`, ${bucketOf(sql`${deals.closedAt}`, o.interval, o.timeZone)} AS bucket` : sql``}
    FROM ${deals}
    WHERE ${deals.deletedAt} IS NULL AND ${deals.status} IN (${statuses}) AND ${deals.closedAt} IS NOT NULL
      AND ${inRange(sql`${deals.closedAt}`, o.range)} ${and(o.scope)} ${extra}`;
}

const series = (o: SalesOptions) => (o.interval ? { interval: o.interval, timeZone: o.timeZone, range: o.range } : undefined);

export function winRateQuery(o: SalesOptions): FigureQuery {
  return {
    base: closedDeals(o, sql`'won', 'lost'`),
    select: sql`count(*) FILTER (WHERE b.status = 'won') AS won, count(*) FILTER (WHERE b.status = 'lost') AS lost`,
    groupBy: !!o.groupBy,
    series: series(o),
  };
}

export function cycleLengthQuery(o: SalesOptions): FigureQuery {
  return {
    base: closedDeals(o, sql`'won'`),
    select: sql`count(b.days) AS n, round(avg(b.days)::numeric, 2)::float8 AS average,
      round((percentile_cont(0.5) WITHIN GROUP (ORDER BY b.days))::numeric, 2)::float8 AS median`,
    groupBy: !!o.groupBy,
    series: series(o),
  };
}

export function dealSizeQuery(o: SalesOptions): FigureQuery {
  return {
    base: closedDeals(o, sql`'won'`, sql`AND ${deals.amount} IS NOT NULL AND ${deals.currency} IS NOT NULL`),
    select: sql`count(b.amount) AS n, sum(b.amount)::text AS total, ${roundMoney(sql`avg(b.amount)`, sql`b.currency`)}::text AS average`,
    perCurrency: true,
    groupBy: !!o.groupBy,
    series: series(o),
  };
}

export interface VelocityRow {
  currency: string;
  open: string | number;
  won: string | number;
  lost: string | number;
  average: string | null;
  cycle: number | null;
  velocity: string | null;
}

/**
 * Per currency: open deals now (a snapshot), won and lost deals closed in the range, their average won
 * amount and cycle, and velocity = open × won/(won+lost) × average / cycle days, in money per day.
 */
export async function velocity(db: Executor, o: SalesOptions): Promise<VelocityRow[]> {
  const v = sql`c.open * (c.won::numeric / nullif(c.won + c.lost, 0)) * c.average / nullif(c.cycle, 0)`;
  const query = sql`
    WITH closed AS (${closedDeals(o, sql`'won', 'lost'`, sql`AND ${deals.currency} IS NOT NULL`)}),
    o AS (SELECT ${deals.currency} AS currency, count(*) AS open FROM ${deals}
          WHERE ${deals.deletedAt} IS NULL AND ${deals.status} = 'open' AND ${deals.currency} IS NOT NULL ${and(o.scope)}
          GROUP BY 1),
    w AS (SELECT currency, count(*) FILTER (WHERE status = 'won') AS won, count(*) FILTER (WHERE status = 'lost') AS lost,
                 avg(amount) FILTER (WHERE status = 'won') AS average,
                 round((avg(days) FILTER (WHERE status = 'won'))::numeric, 4) AS cycle
          FROM closed GROUP BY 1),
    c AS (SELECT coalesce(o.currency, w.currency) AS currency, coalesce(o.open, 0) AS open, coalesce(w.won, 0) AS won,
                 coalesce(w.lost, 0) AS lost, w.average, w.cycle
          FROM o FULL JOIN w ON w.currency = o.currency)
    SELECT c.currency, c.open, c.won, c.lost, ${roundMoney(sql`c.average`, sql`c.currency`)}::text AS average,
           round(c.cycle, 2)::float8 AS cycle, ${roundMoney(v, sql`c.currency`)}::text AS velocity
    FROM c ORDER BY c.currency`;
  return (await queryRows<VelocityRow>(db, query)).rows;
}

export interface FunnelRow {
  pipeline_id: string;
  pipeline_name: string;
  stage_id: string;
  stage_name: string;
  position: number;
  kind: string;
  currency: string | null;
  n: string | number;
  amount: string | null;
}

/**
 * Deals created in the range reaching each stage of each pipeline: a deal reaches a stage when its
 * history enters that stage or any later non-lost stage of the same pipeline (skipped stages count as passed).
 * Read from the deal stage summaries (each deal's set of entered stages, kept by triggers): the
 * deals are first folded into counts per (stage set, currency) — a few hundred groups — and only then is
 * each group's furthest non-lost position per pipeline found, with the stages' current positions and kinds.
 * `tops` is materialized: inlined, the planner rescans it (and the deals) once per stage of the join below.
 * `scope` is over dealStageSummaries's owner and team columns.
 */
export async function funnel(db: Executor, o: SalesOptions & { pipelineId?: string | undefined }): Promise<FunnelRow[]> {
  const r = dealStageSummaries;
  const s = pipelineStages;
  const query = sql`
    WITH g AS (SELECT ${r.reachedStageIds} AS stage_ids, ${r.currency} AS currency, count(*) AS n, sum(${r.amount}) AS amount
               FROM ${r} WHERE ${r.deletedAt} IS NULL AND ${inRange(sql`${r.createdAt}`, o.range)} ${and(o.scope)}
               GROUP BY 1, 2),
    tops AS MATERIALIZED (SELECT t.pipeline_id, t.top, g.currency, g.n, g.amount
             FROM g CROSS JOIN LATERAL (SELECT ${s.pipelineId} AS pipeline_id, max(${s.position}) AS top FROM ${s}
                                        WHERE ${s.id} = ANY (g.stage_ids) AND ${s.kind} <> 'lost' GROUP BY 1) t)
    SELECT p.id AS pipeline_id, p.name AS pipeline_name, st.id AS stage_id, st.name AS stage_name, st.position, st.kind,
           t.currency, coalesce(sum(t.n), 0) AS n, sum(t.amount)::text AS amount
    FROM ${pipelines} p
      JOIN ${s} st ON st.pipeline_id = p.id AND st.kind <> 'lost' AND st.deleted_at IS NULL
      LEFT JOIN tops t ON t.pipeline_id = p.id AND t.top >= st.position
    WHERE p.deleted_at IS NULL ${o.pipelineId ? sql`AND p.id = ${o.pipelineId}` : sql``}
    GROUP BY p.id, p.name, st.id, st.name, st.position, st.kind, t.currency
    ORDER BY p.name, p.id, st.position, st.id, t.currency NULLS FIRST`;
  return (await queryRows<FunnelRow>(db, query)).rows;
}

export interface LeadSourceRow {
  total: boolean;
  source: string | null;
  leads: string | number;
  converted: string | number;
}

/** Leads created in the range per source (null: none given) and in total, with how many were converted. */
export async function leadSources(db: Executor, o: SalesOptions): Promise<LeadSourceRow[]> {
  const query = sql`
    SELECT GROUPING(${leads.source}) = 1 AS total, ${leads.source} AS source, count(*) AS leads,
           count(*) FILTER (WHERE ${leads.status} = 'converted' OR ${leads.convertedAt} IS NOT NULL) AS converted
    FROM ${leads}
    WHERE ${leads.deletedAt} IS NULL AND ${inRange(sql`${leads.createdAt}`, o.range)} ${and(o.scope)}
    GROUP BY GROUPING SETS ((), (${leads.source}))
    ORDER BY 1 DESC, 3 DESC, 2 NULLS LAST`;
  return (await queryRows<LeadSourceRow>(db, query)).rows;
}
