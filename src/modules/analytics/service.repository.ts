import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { feedback } from '../customer/feedback.table.js';
import { slaPolicies } from '../service/sla-policy.table.js';
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

const minutes = (a: SQL, b: SQL) => sql`extract(epoch FROM ${b} - ${a}) / 60.0`;

/** Live tickets created in the range, with the figure's columns. */
function createdTickets(o: ServiceOptions, columns: SQL): SQL {
  return sql`SELECT ${columns}
      ${o.groupBy ? sql`, ${KEY[o.groupBy]} AS key` : sql``}
      ${o.interval ? sql`, ${bucketOf(sql`${tickets.createdAt}`, o.interval, o.timeZone)} AS bucket` : sql``}
    FROM ${tickets} WHERE ${tickets.deletedAt} IS NULL AND ${inRange(sql`${tickets.createdAt}`, o.range)}`;
}
const series = (o: ServiceOptions) => (o.interval ? { interval: o.interval, timeZone: o.timeZone, range: o.range } : undefined);

const stats = (col: string) => {
  const c = sql.raw(`b.${col}`);
  return sql`count(${c}) AS ${sql.raw(`${col}_n`)},
    round(avg(${c})::numeric, 2)::float8 AS ${sql.raw(`${col}_avg`)},
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ${c}))::numeric, 2)::float8 AS ${sql.raw(`${col}_p50`)},
    round((percentile_cont(0.9) WITHIN GROUP (ORDER BY ${c}))::numeric, 2)::float8 AS ${sql.raw(`${col}_p90`)}`;
};

export function responseTimesQuery(o: ServiceOptions): FigureQuery {
  return {
    base: createdTickets(o, sql`${minutes(sql`${tickets.createdAt}`, sql`${tickets.firstRespondedAt}`)} AS fr,
      ${minutes(sql`${tickets.createdAt}`, sql`${tickets.solvedAt}`)} AS res`),
    select: sql`${stats('fr')}, ${stats('res')}`,
    groupBy: !!o.groupBy,
    series: series(o),
  };
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

export interface AnsweredTicketRow {
  created_at: string;
  first_responded_at: string | null;
  solved_at: string | null;
  sla_policy_id: string | null;
  key?: string | null;
  period?: string;
}

/**
 * Tickets created in the range that were answered or solved, with the instants their business time is
 * measured between (in the application, with the SLA clocks' calendar code) and their group and bucket.
 */
export async function answeredTickets(db: Executor, o: ServiceOptions): Promise<AnsweredTicketRow[]> {
  const t = tickets;
  const query = sql`SELECT ${t.createdAt} AS created_at, ${t.firstRespondedAt} AS first_responded_at, ${t.solvedAt} AS solved_at,
      ${t.slaPolicyId} AS sla_policy_id
      ${o.groupBy ? sql`, ${KEY[o.groupBy]}::text AS key` : sql``}
      ${o.interval ? sql`, to_char(${bucketOf(sql`${t.createdAt}`, o.interval, o.timeZone)}, 'YYYY-MM-DD') AS period` : sql``}
    FROM ${t} WHERE ${t.deletedAt} IS NULL AND ${inRange(sql`${t.createdAt}`, o.range)}
      AND (${t.firstRespondedAt} IS NOT NULL OR ${t.solvedAt} IS NOT NULL)`;
  return (await queryRows<AnsweredTicketRow>(db, query)).rows;
}

export interface SlaCalendarRow {
  id: string;
  is_default: boolean;
  deleted: boolean;
  time_zone: string;
  business_hours: { day: number; start: string; end: string }[] | null;
  holidays: string[];
}

/** Every SLA policy's calendar (deleted ones too: old tickets still point at them). */
export async function slaCalendars(db: Executor): Promise<SlaCalendarRow[]> {
  const p = slaPolicies;
  return (await queryRows<SlaCalendarRow>(db, sql`SELECT ${p.id} AS id, ${p.isDefault} AND ${p.deletedAt} IS NULL AS is_default,
    ${p.deletedAt} IS NOT NULL AS deleted, ${p.timeZone} AS time_zone, ${p.businessHours} AS business_hours, ${p.holidays} AS holidays FROM ${p}`)).rows;
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
