import { IANAZone } from 'luxon';
import type { BusinessHoursSpan } from './sla-policy.table.js';

/**
 * Business-time arithmetic for SLA clocks (API.md §5 Service). Pure: no I/O, no clock.
 *
 * Opening hours are local wall-clock spans read in the calendar's IANA zone; a business minute is a real
 * minute that falls inside one of them. So a 09:00–17:00 day is 8 hours even on a DST change day, and a
 * span that straddles the change (or an around-the-clock calendar) counts the minutes that really elapse.
 * Holidays are local dates on which the clock does not run, around-the-clock calendars included.
 */
export interface BusinessCalendar { timeZone: string; businessHours: BusinessHoursSpan[] | null; holidays: string[] }

const MINUTE = 60_000;
const DAY = 86_400_000;
/** hard stop for the day walk; unreachable with a valid calendar (each week has opening hours, holidays are finite) */
const MAX_DAYS = 366 * 400;

/** memoised: luxon answers by building an Intl formatter (~1 ms), and every business-time call asks */
const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 1000) zoneValidity.set(zone, valid);
  }
  return valid;
}

/** the instant `minutes` business minutes after `from` (from inside or outside opening hours) */
export function addBusinessMinutes(cal: BusinessCalendar, from: Date, minutes: number): Date {
  const start = from.getTime();
  const remaining = Math.max(0, minutes) * MINUTE;
  if (!Number.isFinite(remaining) || remaining === 0) return new Date(start);
  const c = compile(cal);
  if (!c.weekly) return new Date(addAroundTheClock(c, start, remaining));
  let left = remaining;
  const first = c.dayOf(start);
  for (let day = first; day < first + MAX_DAYS; day++) {
    for (const [s, e] of c.openIntervals(day)) {
      const from = Math.max(s, start);
      if (e <= from) continue;
      if (left <= e - from) return new Date(from + left);
      left -= e - from;
    }
  }
  throw new Error('business calendar never opens');
}

/** business minutes between two instants (0 when to <= from), rounded to whole minutes */
export function businessMinutesBetween(cal: BusinessCalendar, from: Date, to: Date): number {
  const start = from.getTime();
  const end = to.getTime();
  if (!(end > start)) return 0;
  const c = compile(cal);
  if (!c.weekly) return Math.round((end - start - closedAroundTheClock(c, start, end)) / MINUTE);
  let total = 0;
  const first = c.dayOf(start);
  for (let day = first; day < first + MAX_DAYS && day * DAY < end + 2 * DAY; day++) {
    for (const [s, e] of c.openIntervals(day)) total += Math.max(0, Math.min(e, end) - Math.max(s, start));
  }
  return Math.round(total / MINUTE);
}

// ---- internals ----
// Local days are numbered (days since 1970-01-01 on the local calendar) and wall-clock times turned into
// instants with the zone's memoised offsets: plain arithmetic per day instead of a date object per boundary.

type Interval = [number, number];

interface Compiled {
  /** per weekday (0 = Sunday) the merged local spans in minutes since midnight; null = around the clock */
  weekly: Array<Array<[number, number]>> | null;
  holidays: Set<number>;
  dayOf(instant: number): number;
  /** the instant local midnight begins `day` */
  midnight(day: number): number;
  openIntervals(day: number): Interval[];
}

/** compiled once per calendar object: a caller measuring many intervals in one calendar pays for it once */
const compiledCalendars = new WeakMap<BusinessCalendar, Compiled>();

function compile(cal: BusinessCalendar): Compiled {
  let compiled = compiledCalendars.get(cal);
  if (!compiled) compiledCalendars.set(cal, (compiled = compileCalendar(cal)));
  return compiled;
}

function compileCalendar(cal: BusinessCalendar): Compiled {
  const zone = { offset: offsetsOf(isValidTimeZone(cal.timeZone) ? cal.timeZone : 'UTC') };
  const weekly = cal.businessHours ? weeklySpans(cal.businessHours) : null;
  const holidays = new Set(cal.holidays.map(dayNumberOf).filter((d): d is number => d !== null));
  /**
   * A local wall-clock time (ms on the local epoch) as an instant. Around a DST change: a time the clocks
   * skip is the moment they jump; a time they show twice is its first showing, or its last with `latest`
   * (a span's end), so a span runs from the first moment its start shows to the last its end does.
   */
  function instantOf(local: number, latest = false): number {
    const before = zone.offset(local - DAY);
    const after = zone.offset(local + DAY);
    const a = local - before * MINUTE;
    if (before === after) return a;
    const b = local - after * MINUTE;
    const aValid = zone.offset(a) === before;
    const bValid = zone.offset(b) === after;
    if (aValid && bValid) return latest ? Math.max(a, b) : Math.min(a, b);
    if (aValid || bValid) return aValid ? a : b;
    // skipped: the change lies between b (still the old offset) and a (already the new one)
    let lo = Math.min(a, b);
    let hi = Math.max(a, b);
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / (2 * MINUTE)) * MINUTE;
      if (zone.offset(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  return {
    weekly,
    holidays,
    dayOf: (instant) => Math.floor((instant + zone.offset(instant) * MINUTE) / DAY),
    midnight: (day) => instantOf(day * DAY),
    openIntervals(day) {
      const spans = weekly?.[weekdayOf(day)];
      if (!spans?.length || holidays.has(day)) return [];
      const start = instantOf(day * DAY);
      const end = instantOf((day + 1) * DAY);
      // the usual day: one offset from midnight to midnight, so each span is plain arithmetic
      if (end - start === DAY) return spans.map(([s, e]) => [start + s * MINUTE, start + e * MINUTE]);
      return spans.map(([s, e]) => [instantOf(day * DAY + s * MINUTE), e === 24 * 60 ? end : instantOf(day * DAY + e * MINUTE, true)]);
    },
  };
}

/**
 * A zone's UTC offset (minutes) at an instant, memoised per zone: Intl answers in ~30 µs, far too slow
 * for a walk over years of days. Offsets are read at UTC midnights; a day whose two midnights differ is
 * searched to the minute for its change (DST moves once a day at most), so every later answer is a lookup.
 */
const zoneOffsets = new Map<string, (t: number) => number>();
const MAX_CACHED_DAYS = 500_000;

function offsetsOf(name: string): (t: number) => number {
  const known = zoneOffsets.get(name);
  if (known) return known;
  const zone = IANAZone.create(name);
  const atMidnight = new Map<number, number>();
  const changeAt = new Map<number, number>();
  const midnight = (d: number) => {
    let o = atMidnight.get(d);
    if (o === undefined) {
      if (atMidnight.size > MAX_CACHED_DAYS) atMidnight.clear();
      atMidnight.set(d, (o = zone.offset(d * DAY)));
    }
    return o;
  };
  const offset = (t: number) => {
    const d = Math.floor(t / DAY);
    const before = midnight(d);
    const after = midnight(d + 1);
    if (before === after) return before;
    let change = changeAt.get(d);
    if (change === undefined) {
      let lo = d * DAY;
      let hi = (d + 1) * DAY;
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / (2 * MINUTE)) * MINUTE;
        if (zone.offset(mid) === before) lo = mid;
        else hi = mid;
      }
      changeAt.set(d, (change = hi));
    }
    return t < change ? before : after;
  };
  zoneOffsets.set(name, offset);
  return offset;
}

/** 1970-01-01 was a Thursday */
const weekdayOf = (day: number) => (((day + 4) % 7) + 7) % 7;

function dayNumberOf(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(ms) ? ms / DAY : null;
}

/** spans grouped by weekday, sorted and merged; a week without any opening falls back to around the clock */
function weeklySpans(spans: BusinessHoursSpan[]): Array<Array<[number, number]>> | null {
  const week: Array<Array<[number, number]>> = Array.from({ length: 7 }, () => []);
  for (const span of spans) {
    const s = minutesOf(span.start);
    const e = minutesOf(span.end);
    if (s === null || e === null || e <= s || !Number.isInteger(span.day) || span.day < 0 || span.day > 6) continue;
    week[span.day]!.push([s, e]);
  }
  let open = false;
  for (let d = 0; d < 7; d++) {
    const merged: Array<[number, number]> = [];
    for (const [s, e] of week[d]!.sort((a, b) => a[0] - b[0])) {
      const last = merged[merged.length - 1];
      if (last && s <= last[1]) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    week[d] = merged;
    open ||= merged.length > 0;
  }
  // validation refuses an empty week; should one reach us anyway, never stop the clock for ever
  return open ? week : null;
}

/** `HH:MM` (00:00–24:00) as minutes since midnight */
export function minutesOf(hhmm: string): number | null {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes <= 24 * 60 ? minutes : null;
}

/** holidays as real intervals, sorted: the only closed time of an around-the-clock calendar */
function holidayIntervals(c: Compiled): Interval[] {
  return [...c.holidays].sort((a, b) => a - b).map((d) => [c.midnight(d), c.midnight(d + 1)]);
}

function addAroundTheClock(c: Compiled, start: number, ms: number): number {
  let cursor = start;
  let left = ms;
  for (const [hs, he] of holidayIntervals(c)) {
    if (he <= cursor) continue;
    if (hs > cursor) {
      if (left <= hs - cursor) return cursor + left;
      left -= hs - cursor;
    }
    cursor = he;
  }
  return cursor + left;
}

function closedAroundTheClock(c: Compiled, start: number, end: number): number {
  let closed = 0;
  let cursor = start;
  for (const [hs, he] of holidayIntervals(c)) {
    const s = Math.max(hs, cursor);
    const e = Math.min(he, end);
    if (e > s) { closed += e - s; cursor = e; }
  }
  return closed;
}
