import { createHash } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { type BusinessCalendar, businessMinutesBetween } from './business-time.js';
import { calendarOf } from './sla.js';
import { slaPolicies } from './sla-policy.table.js';
import { tickets } from './ticket.table.js';

// Each ticket's first response and resolution in business minutes (docs/metrics.md "Response times"),
// stored on the ticket so analytics aggregate them in SQL instead of measuring 200 k tickets per call.
// The calendar is the ticket's SLA policy's (even if deleted), else the current default policy's, else
// around the clock. A stored value carries the key of the calendar it was measured in (a hash of its
// time zone, hours and holidays) and the instant it measured to, so any change — a policy's hours
// edited, another default, a ticket answered or reopened, whoever wrote it — makes it stale, never
// wrong: stale values are measured again by the refresher below, and by analytics at read time.

export const AROUND_THE_CLOCK: BusinessCalendar = { timeZone: 'UTC', businessHours: null, holidays: [] };

/** A calendar's identity: the same opening hours, zone and holidays give the same key. */
export function calendarKey(cal: BusinessCalendar): string {
  return createHash('sha256').update(JSON.stringify([cal.timeZone, cal.businessHours, cal.holidays])).digest('hex').slice(0, 20);
}

export interface TicketCalendars {
  /** the calendar a ticket under this policy (or none) is measured in */
  pick(policyId: string | null): BusinessCalendar;
  keyOf(policyId: string | null): string;
  /** SQL: the key of the calendar the ticket row is measured in */
  keySql: SQL;
}

interface PolicyCalendarRow {
  id: string;
  is_default: boolean;
  time_zone: string;
  business_hours: { day: number; start: string; end: string }[] | null;
  holidays: string[];
}

/** Every SLA policy's calendar (deleted ones too: old tickets still point at them) and the fallback. */
export async function ticketCalendars(db: Executor): Promise<TicketCalendars> {
  const p = slaPolicies;
  const rows = (await queryRows<PolicyCalendarRow>(db, sql`SELECT ${p.id} AS id, ${p.isDefault} AND ${p.deletedAt} IS NULL AS is_default,
    ${p.timeZone} AS time_zone, ${p.businessHours} AS business_hours, ${p.holidays} AS holidays FROM ${p}`)).rows;
  const byId = new Map(rows.map((c) => [c.id, calendarOf({ timeZone: c.time_zone, businessHours: c.business_hours, holidays: c.holidays })]));
  const fallbackRow = rows.find((c) => c.is_default);
  const fallback = (fallbackRow && byId.get(fallbackRow.id)) ?? AROUND_THE_CLOCK;
  const keys = new Map([...byId].map(([id, cal]) => [id, calendarKey(cal)]));
  const fallbackKey = calendarKey(fallback);
  const pick = (policyId: string | null) => (policyId && byId.get(policyId)) || fallback;
  // Per row, a CASE over the policies whose calendar is not the fallback's (usually none: then a
  // constant). It was a jsonb lookup of the policy id as text, about 1 µs a row: half of response
  // times' database CPU at 200 k tickets (900 → 440 ms).
  const otherCalendars = [...keys].filter(([, key]) => key !== fallbackKey);
  const keySql = otherCalendars.length
    ? sql`(CASE ${tickets.slaPolicyId} ${sql.join(otherCalendars.map(([id, key]) => sql`WHEN ${id}::uuid THEN ${key}::text`), sql` `)} ELSE ${fallbackKey}::text END)`
    : sql`${fallbackKey}::text`;
  return { pick, keyOf: (policyId) => (policyId && keys.get(policyId)) || fallbackKey, keySql };
}

/** SQL: the stored first-response / resolution minutes still measure the ticket as it is. */
export function freshBusinessTimes(c: TicketCalendars): { firstResponse: SQL; resolution: SQL } {
  const t = tickets;
  const calendar = sql`${t.businessCalendar} IS NOT NULL AND ${t.businessCalendar} = ${c.keySql}`;
  return {
    firstResponse: sql`(${calendar} AND ${t.businessFirstResponseFor} IS NOT DISTINCT FROM ${t.firstRespondedAt})`,
    resolution: sql`(${calendar} AND ${t.businessResolutionFor} IS NOT DISTINCT FROM ${t.solvedAt})`,
  };
}

export interface MeasuredTicket {
  id: string;
  created_at: string | Date;
  first_responded_at: string | Date | null;
  solved_at: string | Date | null;
  sla_policy_id: string | null;
}

export interface BusinessTimesOf { calendar: string; firstResponse: number | null; resolution: number | null }

/** A ticket's business minutes to its first response and to its resolution (null when not there yet). */
export function measure(c: TicketCalendars, r: MeasuredTicket): BusinessTimesOf {
  const cal = c.pick(r.sla_policy_id);
  const created = new Date(r.created_at);
  return {
    calendar: c.keyOf(r.sla_policy_id),
    firstResponse: r.first_responded_at ? businessMinutesBetween(cal, created, new Date(r.first_responded_at)) : null,
    resolution: r.solved_at ? businessMinutesBetween(cal, created, new Date(r.solved_at)) : null,
  };
}

/** The instants a ticket's business times measure, as a write leaves them. */
export interface TicketInstants { createdAt: Date; firstRespondedAt: Date | null; solvedAt: Date | null; slaPolicyId: string | null }

/**
 * The stored business-time columns for a ticket as a write leaves it. The ticket writer stores them in
 * the write's own transaction, so tickets changed through the API are never stale; the refresher below
 * is left with what a write cannot see (a policy's calendar edited, another default policy).
 */
export function storedBusinessTimes(c: TicketCalendars, r: TicketInstants) {
  const m = measure(c, { id: '', created_at: r.createdAt, first_responded_at: r.firstRespondedAt, solved_at: r.solvedAt, sla_policy_id: r.slaPolicyId });
  return {
    businessCalendar: m.calendar,
    businessFirstResponseMinutes: m.firstResponse, businessFirstResponseFor: r.firstRespondedAt,
    businessResolutionMinutes: m.resolution, businessResolutionFor: r.solvedAt,
  };
}

/** tickets measured per pass; a full pass makes the worker loop run again at once */
export const BUSINESS_TIMES_BATCH = 5000;
export const BUSINESS_TIMES_INTERVAL_MS = 30_000;

/**
 * One pass of the refresher: up to a batch of live tickets whose stored business times are missing
 * or stale, measured and stored. A ticket changed meanwhile keeps its stale mark (the update only
 * lands where the instants measured are still the ticket's) and is taken again next pass. The stored
 * values are derived data: version and updatedAt stay as they are, no event.
 */
export async function refreshBusinessTimes(db: Executor, batch = BUSINESS_TIMES_BATCH): Promise<number> {
  const t = tickets;
  const c = await ticketCalendars(db);
  const fresh = freshBusinessTimes(c);
  const stale = (await queryRows<MeasuredTicket>(db, sql`SELECT ${t.id} AS id, ${t.createdAt} AS created_at,
      ${t.firstRespondedAt} AS first_responded_at, ${t.solvedAt} AS solved_at, ${t.slaPolicyId} AS sla_policy_id
    FROM ${t} WHERE ${t.deletedAt} IS NULL AND (${t.firstRespondedAt} IS NOT NULL OR ${t.solvedAt} IS NOT NULL)
      AND NOT (${fresh.firstResponse} AND ${fresh.resolution})
    LIMIT ${batch}`)).rows;
  if (stale.length === 0) return 0;
  const iso = (d: string | Date | null) => (d === null ? null : new Date(d).toISOString());
  const values = stale.map((r) => {
    const m = measure(c, r);
    return { id: r.id, cal: m.calendar, fr: m.firstResponse, fr_for: iso(r.first_responded_at), res: m.resolution, res_for: iso(r.solved_at) };
  });
  await db.execute(sql`UPDATE ${t} SET business_calendar = v.cal, business_first_response_minutes = v.fr,
      business_first_response_for = v.fr_for, business_resolution_minutes = v.res, business_resolution_for = v.res_for
    FROM jsonb_to_recordset(${JSON.stringify(values)}::jsonb) AS v(id uuid, cal text, fr integer, fr_for timestamptz, res integer, res_for timestamptz)
    WHERE ${t.id} = v.id AND ${t.firstRespondedAt} IS NOT DISTINCT FROM v.fr_for AND ${t.solvedAt} IS NOT DISTINCT FROM v.res_for`);
  return stale.length;
}
