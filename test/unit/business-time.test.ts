import t from 'tap';
import { DateTime } from 'luxon';
import { type BusinessCalendar, addBusinessMinutes, businessMinutesBetween } from '../../src/modules/service/business-time.js';
import { dueTimes, pausedBusinessMinutes } from '../../src/modules/service/sla.js';
import type { BusinessHoursSpan, SlaPolicyRow } from '../../src/modules/service/sla-policy.table.js';

// SLA clocks in business time (API.md §5 Service), with fixed instants only: opening hours in the policy's
// zone, holidays, pauses, DST in London and around-the-clock policies that count real minutes.

const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;
const week = (days: number[], start = '09:00', end = '17:00'): BusinessHoursSpan[] => days.map((day) => ({ day, start, end }));
const cal = (timeZone: string, businessHours: BusinessHoursSpan[] | null, holidays: string[] = []): BusinessCalendar =>
  ({ timeZone, businessHours, holidays });

const riyadh = cal('Asia/Riyadh', week([0, 1, 2, 3, 4])); // Sunday–Thursday, UTC+3 all year
const london = cal('Europe/London', week([1, 2, 3, 4, 5]));
const everyDayLondon = cal('Europe/London', week([0, 1, 2, 3, 4, 5, 6]));

function policy(p: Partial<SlaPolicyRow>): SlaPolicyRow {
  return {
    id: '00000000-0000-7000-8000-000000000001', createdAt: at('2026-01-01T00:00:00Z'), updatedAt: at('2026-01-01T00:00:00Z'),
    version: 1, deletedAt: null, name: 'Standard', isDefault: true, timeZone: 'UTC', businessHours: null, holidays: [],
    targets: [], ...p,
  };
}

t.test('Riyadh, Sunday–Thursday 09:00–17:00: Thursday 16:30 plus 2 hours is Sunday 10:30; a holiday Sunday moves it to Monday', async (t) => {
  const thursday1630 = at('2026-11-19T13:30:00Z'); // 16:30 +03:00
  t.equal(iso(addBusinessMinutes(riyadh, thursday1630, 120)), '2026-11-22T07:30:00.000Z', 'Sunday 10:30 local');
  t.equal(businessMinutesBetween(riyadh, thursday1630, at('2026-11-22T07:30:00Z')), 120);
  const holiday = { ...riyadh, holidays: ['2026-11-22'] };
  t.equal(iso(addBusinessMinutes(holiday, thursday1630, 120)), '2026-11-23T07:30:00.000Z', 'Monday 10:30 local');
  t.equal(businessMinutesBetween(holiday, thursday1630, at('2026-11-23T07:30:00Z')), 120);

  const p = policy({ timeZone: 'Asia/Riyadh', businessHours: riyadh.businessHours, targets: [{ priority: 'high', firstResponseMinutes: 120, resolutionMinutes: 480 }] });
  const due = dueTimes(p, { createdAt: thursday1630, priority: 'high', slaPausedMinutes: 0 });
  t.equal(iso(due.firstResponseDueAt), '2026-11-22T07:30:00.000Z');
  t.equal(iso(due.resolutionDueAt), '2026-11-22T13:30:00.000Z', '30 min Thursday + 7.5 h Sunday → Sunday 16:30 local');
});

t.test('London, Monday–Friday: Friday 12:00 plus 8 business hours is Monday 12:00', async (t) => {
  const friday = at('2026-11-20T12:00:00Z');
  t.equal(iso(addBusinessMinutes(london, friday, 480)), '2026-11-23T12:00:00.000Z');
  t.equal(businessMinutesBetween(london, friday, at('2026-11-23T12:00:00Z')), 480);
  const p = policy({ timeZone: 'Europe/London', businessHours: london.businessHours, targets: [{ priority: 'normal', firstResponseMinutes: 60, resolutionMinutes: 480 }] });
  t.equal(iso(dueTimes(p, { createdAt: friday, priority: 'normal', slaPausedMinutes: 0 }).resolutionDueAt), '2026-11-23T12:00:00.000Z');
});

t.test('a pending interval stops the clock: its business minutes push the due times back', async (t) => {
  const p = policy({ timeZone: 'Europe/London', businessHours: london.businessHours, targets: [{ priority: 'urgent', firstResponseMinutes: 240, resolutionMinutes: 960 }] });
  const monday0900 = at('2026-11-23T09:00:00Z');
  // pending Monday 16:00 → Tuesday 10:00: one hour each side of the night counts, the night does not
  const paused = businessMinutesBetween(london, at('2026-11-23T16:00:00Z'), at('2026-11-24T10:00:00Z'));
  t.equal(paused, 120);
  t.equal(pausedBusinessMinutes(p, at('2026-11-23T16:00:00Z'), at('2026-11-24T10:00:00Z')), 120);
  t.equal(pausedBusinessMinutes(null, at('2026-11-23T16:00:00Z'), at('2026-11-24T10:00:00Z')), 0, 'no policy, no clock');
  const running = dueTimes(p, { createdAt: monday0900, priority: 'urgent', slaPausedMinutes: 0 });
  const pushed = dueTimes(p, { createdAt: monday0900, priority: 'urgent', slaPausedMinutes: paused });
  t.equal(iso(running.firstResponseDueAt), '2026-11-23T13:00:00.000Z');
  t.equal(iso(pushed.firstResponseDueAt), '2026-11-23T15:00:00.000Z');
  t.equal(iso(running.resolutionDueAt), '2026-11-24T17:00:00.000Z', 'two full days');
  t.equal(iso(pushed.resolutionDueAt), '2026-11-25T11:00:00.000Z', 'two more hours, carried into Wednesday');
});

t.test('no policy, or no target for the priority: no due times', async (t) => {
  const clock = { createdAt: at('2026-11-23T09:00:00Z'), priority: 'low' as const, slaPausedMinutes: 0 };
  t.same(dueTimes(null, clock), { firstResponseDueAt: null, resolutionDueAt: null });
  const p = policy({ targets: [{ priority: 'urgent', firstResponseMinutes: 15, resolutionMinutes: 60 }] });
  t.same(dueTimes(p, clock), { firstResponseDueAt: null, resolutionDueAt: null });
  t.equal(iso(dueTimes(p, { ...clock, priority: 'urgent' }).firstResponseDueAt), '2026-11-23T09:15:00.000Z', 'around the clock in UTC');
});

t.test('opened outside opening hours: the clock starts at the next opening', async (t) => {
  t.equal(iso(addBusinessMinutes(riyadh, at('2026-11-22T04:00:00Z'), 60)), '2026-11-22T07:00:00.000Z', 'Sunday 07:00 → 10:00');
  t.equal(iso(addBusinessMinutes(riyadh, at('2026-11-19T17:00:00Z'), 60)), '2026-11-22T07:00:00.000Z', 'Thursday 20:00 → Sunday 10:00');
  t.equal(iso(addBusinessMinutes(riyadh, at('2026-11-20T09:00:00Z'), 1)), '2026-11-22T06:01:00.000Z', 'Friday (weekend) → Sunday 09:01');
  t.equal(iso(addBusinessMinutes(riyadh, at('2026-11-22T06:00:00Z'), 0)), '2026-11-22T06:00:00.000Z', 'zero minutes: the instant itself');
  t.equal(businessMinutesBetween(riyadh, at('2026-11-20T00:00:00Z'), at('2026-11-21T23:00:00Z')), 0, 'a weekend counts nothing');
  t.equal(businessMinutesBetween(riyadh, at('2026-11-22T10:00:00Z'), at('2026-11-22T09:00:00Z')), 0, 'to before from');
});

t.test('several spans a day (a lunch break) and a span ending 24:00', async (t) => {
  const lunch = cal('UTC', [{ day: 1, start: '13:00', end: '17:00' }, { day: 1, start: '09:00', end: '12:00' }]);
  const monday = (hhmm: string) => at(`2026-11-23T${hhmm}:00Z`);
  t.equal(iso(addBusinessMinutes(lunch, monday('11:30'), 60)), '2026-11-23T13:30:00.000Z', 'the break does not count');
  t.equal(iso(addBusinessMinutes(lunch, monday('11:00'), 60)), '2026-11-23T12:00:00.000Z', 'due at the break when the minutes run out');
  t.equal(iso(addBusinessMinutes(lunch, monday('12:15'), 60)), '2026-11-23T14:00:00.000Z', 'opened during the break');
  t.equal(iso(addBusinessMinutes(lunch, monday('16:00'), 120)), '2026-11-30T10:00:00.000Z', 'Monday only: next Monday');
  t.equal(businessMinutesBetween(lunch, monday('08:00'), monday('18:00')), 420);

  const nights = cal('Asia/Riyadh', [{ day: 1, start: '18:00', end: '24:00' }, { day: 2, start: '00:00', end: '06:00' }]);
  t.equal(iso(addBusinessMinutes(nights, at('2026-11-23T20:00:00Z'), 120)), '2026-11-23T22:00:00.000Z', 'Monday 23:00 → Tuesday 01:00 local');
  t.equal(businessMinutesBetween(nights, at('2026-11-23T14:00:00Z'), at('2026-11-24T04:00:00Z')), 720);
});

t.test('DST in London: 09:00–17:00 stays 8 hours; weekends across the change', async (t) => {
  // spring forward Sunday 2026-03-29 01:00 GMT → 02:00 BST; fall back Sunday 2026-10-25 02:00 BST → 01:00 GMT
  t.equal(businessMinutesBetween(everyDayLondon, at('2026-03-29T00:00:00Z'), at('2026-03-30T00:00:00Z')), 480, 'spring-forward day');
  t.equal(iso(addBusinessMinutes(everyDayLondon, at('2026-03-29T00:00:00Z'), 480)), '2026-03-29T16:00:00.000Z', '17:00 BST');
  t.equal(businessMinutesBetween(everyDayLondon, at('2026-10-24T23:00:00Z'), at('2026-10-26T00:00:00Z')), 480, 'fall-back day');
  t.equal(iso(addBusinessMinutes(everyDayLondon, at('2026-10-25T00:00:00Z'), 480)), '2026-10-25T17:00:00.000Z', '17:00 GMT');

  // Friday 16:00 GMT + 2 h over the spring weekend → Monday 10:00 BST (09:00Z); back again in autumn
  t.equal(iso(addBusinessMinutes(london, at('2026-03-27T16:00:00Z'), 120)), '2026-03-30T09:00:00.000Z');
  t.equal(businessMinutesBetween(london, at('2026-03-27T16:00:00Z'), at('2026-03-30T09:00:00Z')), 120);
  t.equal(iso(addBusinessMinutes(london, at('2026-10-23T15:00:00Z'), 120)), '2026-10-26T10:00:00.000Z', 'Friday 16:00 BST → Monday 10:00 GMT');

  // spans that straddle the change count the minutes that really pass
  const wholeDays = cal('Europe/London', week([0, 1, 2, 3, 4, 5, 6], '00:00', '24:00'));
  t.equal(businessMinutesBetween(wholeDays, at('2026-03-29T00:00:00Z'), at('2026-03-29T23:00:00Z')), 23 * 60, 'a 23-hour day');
  t.equal(businessMinutesBetween(wholeDays, at('2026-10-24T23:00:00Z'), at('2026-10-26T00:00:00Z')), 25 * 60, 'a 25-hour day');
  const early = cal('Europe/London', [{ day: 0, start: '00:30', end: '03:00' }]);
  t.equal(businessMinutesBetween(early, at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z')), 90, '00:30 GMT → 03:00 BST');
  t.equal(businessMinutesBetween(early, at('2026-10-24T00:00:00Z'), at('2026-10-26T00:00:00Z')), 210, '00:30 BST → 03:00 GMT');
  const skipped = cal('Europe/London', [{ day: 0, start: '01:30', end: '03:00' }]);
  t.equal(businessMinutesBetween(skipped, at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z')), 60, 'a skipped 01:30 opens when the clocks jump');
  t.equal(iso(addBusinessMinutes(skipped, at('2026-03-29T00:00:00Z'), 1)), '2026-03-29T01:01:00.000Z');
});

t.test('around the clock counts real elapsed minutes, across DST too; holidays still stop it', async (t) => {
  const always = cal('Europe/London', null);
  t.equal(iso(addBusinessMinutes(always, at('2026-03-28T12:00:00Z'), 1440)), '2026-03-29T12:00:00.000Z', 'Saturday noon GMT → Sunday 13:00 BST');
  t.equal(iso(addBusinessMinutes(always, at('2026-10-24T11:00:00Z'), 1440)), '2026-10-25T11:00:00.000Z', 'Saturday noon BST → Sunday 11:00 GMT');
  t.equal(businessMinutesBetween(always, at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z')), 1440);
  t.equal(businessMinutesBetween(always, at('2026-10-24T11:00:00Z'), at('2026-10-25T11:00:00Z')), 1440);

  const withHoliday = cal('Europe/London', null, ['2026-12-25', '2026-12-26']);
  t.equal(iso(addBusinessMinutes(withHoliday, at('2026-12-24T23:00:00Z'), 120)), '2026-12-27T01:00:00.000Z', 'the two holidays are skipped');
  t.equal(businessMinutesBetween(withHoliday, at('2026-12-24T00:00:00Z'), at('2026-12-28T00:00:00Z')), 2 * 1440);
});

t.test('long targets and degenerate calendars end, with exact results', async (t) => {
  const utc = cal('UTC', week([1, 2, 3, 4, 5]));
  const monday = at('2026-11-23T09:00:00Z');
  t.equal(iso(addBusinessMinutes(utc, monday, 100 * 60)), '2026-12-09T13:00:00.000Z', '100 business hours: 12.5 working days');
  t.equal(businessMinutesBetween(utc, monday, at('2026-12-09T13:00:00Z')), 6000);
  const fiveYears = 5 * 52 * 40 * 60;
  const far = addBusinessMinutes(utc, monday, fiveYears);
  t.equal(businessMinutesBetween(utc, monday, far), fiveYears, 'five working years, and back');

  // an empty week (validation refuses it) never stops a clock for ever: it runs around the clock
  t.equal(iso(addBusinessMinutes(cal('UTC', []), monday, 60)), '2026-11-23T10:00:00.000Z');
  t.equal(businessMinutesBetween(cal('UTC', []), monday, at('2026-11-23T10:00:00Z')), 60);
  t.equal(iso(addBusinessMinutes(cal('Not/AZone', null), monday, 60)), '2026-11-23T10:00:00.000Z', 'an unknown zone reads as UTC');
});

t.test('agrees with a minute-by-minute count on DST weekends of several zones (fixed pseudo-random calendars)', async (t) => {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  /** the definition itself: a minute counts when its local wall-clock time lies in an opening span */
  function reference(c: BusinessCalendar, from: number, to: number): number {
    let n = 0;
    for (let x = from; x < to; x += 60_000) {
      const local = DateTime.fromMillis(x, { zone: c.timeZone });
      if (c.holidays.includes(local.toISODate() ?? '')) continue;
      const m = local.hour * 60 + local.minute;
      if (!c.businessHours || c.businessHours.some((s) => s.day === local.weekday % 7 && minutes(s.start) <= m && m < minutes(s.end))) n++;
    }
    return n;
  }
  let seed = 7;
  const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  const hh = (h: number) => (h === 24 ? '24:00' : `${String(h).padStart(2, '0')}:00`);
  // Santiago moves at midnight (a day without 00:00), Chatham at 02:45, the others at 01:00–03:00
  const zones = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'America/Santiago', 'Pacific/Chatham'];
  const changes = ['2026-03-29', '2026-10-25', '2026-03-08', '2026-11-01', '2026-04-05', '2026-10-04', '2026-09-06'];
  for (let i = 0; i < 12; i++) {
    const spans: BusinessHoursSpan[] = [];
    for (let day = 0; day < 7; day++) {
      if (rnd() < 0.3) continue;
      const start = 4 + Math.floor(rnd() * 8);
      spans.push({ day, start: hh(start), end: hh(start + 1 + Math.floor(rnd() * (23 - start))) });
    }
    const c = cal(pick(zones), rnd() < 0.2 || spans.length === 0 ? null : spans, rnd() < 0.3 ? [pick(changes)] : []);
    const from = Date.parse(`${pick(changes)}T00:00:00Z`) + Math.floor((rnd() * 4 - 2) * 1440) * 60_000;
    const to = from + Math.floor(rnd() * 4 * 1440) * 60_000;
    const expected = reference(c, from, to);
    t.equal(businessMinutesBetween(c, new Date(from), new Date(to)), expected, `${c.timeZone} ${new Date(from).toISOString()}: between`);
    if (expected > 0) {
      const due = addBusinessMinutes(c, new Date(from), expected).getTime();
      t.ok(due <= to && reference(c, from, due) === expected, `${c.timeZone}: add lands on the ${expected}th minute`);
    }
  }
});
