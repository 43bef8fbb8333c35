import { type BusinessCalendar, businessMinutesBetween, calendarOf } from '../service/index.js';
import type { AnsweredTicketRow, SlaCalendarRow } from './service.repository.js';

// Business-hours response times (docs/metrics.md "Response times"): each ticket's first response and
// resolution measured in the business minutes of its SLA policy's calendar — the same code that runs
// the SLA clocks — then summarised like the calendar figures (count, average, median, p90).

export interface DurationStatsDto {
  count: number;
  averageMinutes: number | null;
  medianMinutes: number | null;
  p90Minutes: number | null;
}
export interface BusinessTimes { firstResponse: DurationStatsDto; resolution: DurationStatsDto }

const AROUND_THE_CLOCK: BusinessCalendar = { timeZone: 'UTC', businessHours: null, holidays: [] };
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Linear interpolation between the two nearest ranks: PostgreSQL's percentile_cont. */
function percentile(sorted: number[], p: number): number {
  const at = p * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + (at - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

export function durationStats(values: number[]): DurationStatsDto {
  if (values.length === 0) return { count: 0, averageMinutes: null, medianMinutes: null, p90Minutes: null };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    averageMinutes: round2(sorted.reduce((s, v) => s + v, 0) / sorted.length),
    medianMinutes: round2(percentile(sorted, 0.5)),
    p90Minutes: round2(percentile(sorted, 0.9)),
  };
}

/**
 * The calendar a ticket is measured in: its SLA policy's, else the default policy's, else around the
 * clock (then business time equals calendar time).
 */
function calendarPicker(calendars: SlaCalendarRow[]): (policyId: string | null) => BusinessCalendar {
  const byId = new Map(calendars.map((c) => [c.id, calendarOf({ timeZone: c.time_zone, businessHours: c.business_hours, holidays: c.holidays })]));
  const fallback = calendars.find((c) => c.is_default);
  const fallbackCalendar = (fallback && byId.get(fallback.id)) ?? AROUND_THE_CLOCK;
  return (policyId) => (policyId && byId.get(policyId)) || fallbackCalendar;
}

interface Measured { firstResponse: number[]; resolution: number[] }

/** Business minutes of each ticket, summarised in total, per group key and per bucket period. */
export function businessTimes(rows: AnsweredTicketRow[], calendars: SlaCalendarRow[]) {
  const pick = calendarPicker(calendars);
  const total: Measured = { firstResponse: [], resolution: [] };
  const groups = new Map<string | null, Measured>();
  const series = new Map<string, Measured>();
  const into = <K>(m: Map<K, Measured>, k: K) => m.get(k) ?? m.set(k, { firstResponse: [], resolution: [] }).get(k) as Measured;
  for (const r of rows) {
    const cal = pick(r.sla_policy_id);
    const created = new Date(r.created_at);
    const targets = [total, ...(r.key !== undefined ? [into(groups, r.key)] : []), ...(r.period !== undefined ? [into(series, r.period)] : [])];
    if (r.first_responded_at) {
      const v = businessMinutesBetween(cal, created, new Date(r.first_responded_at));
      for (const m of targets) m.firstResponse.push(v);
    }
    if (r.solved_at) {
      const v = businessMinutesBetween(cal, created, new Date(r.solved_at));
      for (const m of targets) m.resolution.push(v);
    }
  }
  const summary = (m: Measured | undefined): BusinessTimes => ({
    firstResponse: durationStats(m?.firstResponse ?? []), resolution: durationStats(m?.resolution ?? []),
  });
  return {
    total: summary(total),
    ofGroup: (key: string | null) => summary(groups.get(key)),
    ofPeriod: (period: string) => summary(series.get(period)),
  };
}
