import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { feedback } from '../customer/feedback.table.js';
import { type MeasuredTicket, type TicketCalendars, freshBusinessTimes, measure } from '../service/index.js';
import { tickets } from '../service/ticket.table.js';
import type { FigureQuery } from './figure-query.js';
import { type Interval, type Range, bucketOf, inRange } from './params.js';

// The service figures' statements (docs/metrics.md "Service"), read-only over the tickets and the
// feedback tables. Times are calendar minutes.

export const SERVICE_GROUP_BY = ['assignee', 'team'] as const;
export type ServiceGroupBy = (typeof SERVICE_GROUP_BY)[number];
const KEY: Record<ServiceGroupBy, SQL> = { assignee: sql`${tickets.assigneeId}`, team: sql`${tickets.teamId}` };

export interface ServiceOptions {
  range: Range;
  groupBy?: ServiceGroupBy | undefined;
  interval?: Interval | undefined;
  timeZone: string;
}

/**
 * Whole milliseconds from a to b (the columns hold milliseconds), through float8: extract's numeric
 * arithmetic was a third of response times' CPU at 200 k tickets. Rounding recovers the exact count.
 */
const millis = (a: SQL, b: SQL) => sql`round(date_part('epoch', ${b} - ${a}) * 1000)::bigint`;

/** Live tickets created in the range, with the figure's columns. */
function createdTickets(o: ServiceOptions, columns: SQL): SQL {
  return sql`SELECT ${columns}
      ${o.groupBy ? sql`, ${KEY[o.groupBy]} AS key` : sql``}
      ${o.interval ? sql`, ${bucketOf(sql`${tickets.createdAt}`, o.interval, o.timeZone)} AS bucket` : sql``}
    FROM ${tickets} WHERE ${tickets.deletedAt} IS NULL AND ${inRange(sql`${tickets.createdAt}`, o.range)}`;
}
const series = (o: ServiceOptions) => (o.interval ? { interval: o.interval, timeZone: o.timeZone, range: o.range } : undefined);

/**
 * count, average, median and p90 of base column `col`; `mean` overrides the average's expression (the
 * calendar durations average their exact milliseconds: `col` is the float8 minutes the percentiles sort).
 */
const stats = (col: string, mean?: SQL) => {
  const c = sql.raw(`b.${col}`);
  return sql`count(${c}) AS ${sql.raw(`${col}_n`)},
    ${mean ?? sql`round(avg(${c})::numeric, 2)`}::float8 AS ${sql.raw(`${col}_avg`)},
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ${c}))::numeric, 2)::float8 AS ${sql.raw(`${col}_p50`)},
    round((percentile_cont(0.9) WITHIN GROUP (ORDER BY ${c}))::numeric, 2)::float8 AS ${sql.raw(`${col}_p90`)}`;
};

/**
 * Calendar minutes from the ticket's times; business minutes from the values stored on the ticket
 * (ticket-business-times.ts) where they are fresh, else from `remeasured` (the stale ones, measured
 * by the caller with the SLA clocks' code: see staleAnsweredTickets). Column `stale_n` counts the
 * answered tickets whose stored values are stale: when it is 0 (every ticket written through the
 * service, and the refresher's work) the figure is complete as it is; else the caller measures them
 * and runs the figure again with them, so the usual call reads the tickets once.
 */
export function responseTimesQuery(o: ServiceOptions, calendars: TicketCalendars, remeasured: RemeasuredTicket[]): FigureQuery {
  const t = tickets;
  const fresh = freshBusinessTimes(calendars);
  // the stale ones' values come from the caller, joined by id (no join when there are none)
  const m = remeasured.length
    ? { join: sql`LEFT JOIN jsonb_to_recordset(${JSON.stringify(remeasured)}::jsonb) AS m(id uuid, fr integer, res integer) ON m.id = ${t.id}`, fr: sql`m.fr`, res: sql`m.res` }
    : { join: sql``, fr: sql`NULL::integer`, res: sql`NULL::integer` };
  // calendar durations as exact milliseconds (for the average) and the same as float8 minutes (for the
  // percentiles, which take float8: the value they sorted before, when it came from numeric minutes);
  // each freshness test evaluated once per ticket, in the inner query
  const base = sql`SELECT frm, frm / 60000.0::float8 AS fr, resm, resm / 60000.0::float8 AS res,
      CASE WHEN fresh_fr THEN stored_fr ELSE m_fr END AS bfr, CASE WHEN fresh_res THEN stored_res ELSE m_res END AS bres,
      answered AND NOT (fresh_fr AND fresh_res) AS stale
      ${o.groupBy ? sql`, key` : sql``} ${o.interval ? sql`, bucket` : sql``}
    FROM (SELECT ${millis(sql`${t.createdAt}`, sql`${t.firstRespondedAt}`)} AS frm,
      ${millis(sql`${t.createdAt}`, sql`${t.solvedAt}`)} AS resm,
      ${fresh.firstResponse} AS fresh_fr, ${fresh.resolution} AS fresh_res,
      ${t.businessFirstResponseMinutes} AS stored_fr, ${t.businessResolutionMinutes} AS stored_res, ${m.fr} AS m_fr, ${m.res} AS m_res,
      (${t.firstRespondedAt} IS NOT NULL OR ${t.solvedAt} IS NOT NULL) AS answered
      ${o.groupBy ? sql`, ${KEY[o.groupBy]} AS key` : sql``}
      ${o.interval ? sql`, ${bucketOf(sql`${t.createdAt}`, o.interval, o.timeZone)} AS bucket` : sql``}
    FROM ${t} ${m.join} WHERE ${t.deletedAt} IS NULL AND ${inRange(sql`${t.createdAt}`, o.range)}) d`;
  const exact = (ms: string) => sql`round(avg(${sql.raw(`b.${ms}`)}) / 60000, 2)`;
  return {
    base,
    select: sql`${stats('fr', exact('frm'))}, ${stats('res', exact('resm'))}, ${stats('bfr')}, ${stats('bres')},
      count(*) FILTER (WHERE b.stale) AS stale_n`,
    groupBy: !!o.groupBy,
    series: series(o),
  };
}

export interface RemeasuredTicket { id: string; fr: number | null; res: number | null }

/**
 * Tickets created in the range, answered or solved, whose stored business times are missing or stale
 * (the refresher has not come by since), measured now in their calendar.
 */
export async function staleAnsweredTickets(db: Executor, o: ServiceOptions, calendars: TicketCalendars): Promise<RemeasuredTicket[]> {
  const t = tickets;
  const fresh = freshBusinessTimes(calendars);
  const rows = (await queryRows<MeasuredTicket>(db, sql`SELECT ${t.id} AS id, ${t.createdAt} AS created_at,
      ${t.firstRespondedAt} AS first_responded_at, ${t.solvedAt} AS solved_at, ${t.slaPolicyId} AS sla_policy_id
    FROM ${t} WHERE ${t.deletedAt} IS NULL AND ${inRange(sql`${t.createdAt}`, o.range)}
      AND (${t.firstRespondedAt} IS NOT NULL OR ${t.solvedAt} IS NOT NULL)
      AND NOT (${fresh.firstResponse} AND ${fresh.resolution})`)).rows;
  return rows.map((r) => {
    const m = measure(calendars, r);
    return { id: r.id, fr: m.firstResponse, res: m.resolution };
  });
}

/** met: answered (solved) by the due time and never flagged; breached: flagged by the scheduler or late. */
export function slaQuery(o: ServiceOptions): FigureQuery {
  const t = tickets;
  const frBreached = sql`(${t.firstResponseBreachedAt} IS NOT NULL OR ${t.firstRespondedAt} > ${t.firstResponseDueAt})`;
  const resBreached = sql`(${t.resolutionBreachedAt} IS NOT NULL OR ${t.solvedAt} > ${t.resolutionDueAt})`;
  return {
    base: createdTickets(o, sql`
      CASE WHEN ${t.firstResponseDueAt} IS NULL THEN NULL WHEN ${frBreached} THEN 'breached' WHEN ${t.firstRespondedAt} IS NOT NULL THEN 'met' END AS fr,
      CASE WHEN ${t.resolutionDueAt} IS NULL THEN NULL WHEN ${resBreached} THEN 'breached' WHEN ${t.solvedAt} IS NOT NULL THEN 'met' END AS res`),
    select: sql`count(*) FILTER (WHERE b.fr = 'met') AS fr_met, count(*) FILTER (WHERE b.fr = 'breached') AS fr_breached,
      count(*) FILTER (WHERE b.res = 'met') AS res_met, count(*) FILTER (WHERE b.res = 'breached') AS res_breached`,
    groupBy: !!o.groupBy,
    series: series(o),
  };
}

export interface BacklogRow {
  created: string | number;
  solved: string | number;
  open: { status: string; priority: string; n: number }[] | null;
}

/** Open tickets now per status and priority, and tickets created and solved in the range. */
export async function backlog(db: Executor, o: ServiceOptions): Promise<BacklogRow> {
  const live = sql`${tickets.deletedAt} IS NULL`;
  const query = sql`SELECT
      (SELECT count(*) FROM ${tickets} WHERE ${live} AND ${inRange(sql`${tickets.createdAt}`, o.range)}) AS created,
      (SELECT count(*) FROM ${tickets} WHERE ${live} AND ${tickets.solvedAt} IS NOT NULL AND ${inRange(sql`${tickets.solvedAt}`, o.range)}) AS solved,
      (SELECT json_agg(json_build_object('status', status, 'priority', priority, 'n', n)) FROM (
         SELECT ${tickets.status} AS status, ${tickets.priority} AS priority, count(*) AS n FROM ${tickets}
         WHERE ${live} AND ${tickets.status} IN ('new', 'open', 'pending') GROUP BY 1, 2) x) AS open`;
  return (await queryRows<BacklogRow>(db, query)).rows[0] as BacklogRow;
}

export interface SatisfactionRow {
  csat_n: string | number;
  csat_satisfied: string | number;
  csat_avg: number | null;
  nps_n: string | number;
  promoters: string | number;
  passives: string | number;
  detractors: string | number;
}

/** CSAT from ticket ratings given in the range; NPS from NPS answers recorded in the range. */
export async function satisfaction(db: Executor, o: ServiceOptions): Promise<SatisfactionRow> {
  const f = feedback;
  const query = sql`
    WITH c AS (SELECT count(*) AS csat_n, count(*) FILTER (WHERE ${tickets.satisfactionScore} >= 4) AS csat_satisfied,
                      round(avg(${tickets.satisfactionScore}), 2)::float8 AS csat_avg
               FROM ${tickets} WHERE ${tickets.deletedAt} IS NULL AND ${tickets.satisfactionScore} IS NOT NULL
                 AND ${tickets.satisfactionAt} IS NOT NULL AND ${inRange(sql`${tickets.satisfactionAt}`, o.range)}),
    n AS (SELECT count(*) AS nps_n, count(*) FILTER (WHERE ${f.score} >= 9) AS promoters,
                 count(*) FILTER (WHERE ${f.score} BETWEEN 7 AND 8) AS passives, count(*) FILTER (WHERE ${f.score} <= 6) AS detractors
          FROM ${f} WHERE ${f.deletedAt} IS NULL AND ${f.type} = 'nps' AND ${inRange(sql`${f.createdAt}`, o.range)})
    SELECT * FROM c, n`;
  return (await queryRows<SatisfactionRow>(db, query)).rows[0] as SatisfactionRow;
}
