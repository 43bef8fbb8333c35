import { z } from 'zod';
import { DateTime } from 'luxon';
import { Uuid, recordFields, iso } from '../../platform/http/common.schema.js';
import { isValidTimeZone, minutesOf } from './business-time.js';
import { TICKET_PRIORITIES, type SlaPolicyRow } from './sla-policy.table.js';

/** (ticket.schema.ts registers the TicketPriority component; one id may be registered once) */
const TicketPriority = z.enum(TICKET_PRIORITIES);

/** Ten years of minutes: far beyond any real target, small enough for the business-time walk. */
const MAX_TARGET_MINUTES = 10 * 366 * 24 * 60;

const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00–24:00)');

export const BusinessHoursSpan = z
  .object({
    day: z.number().int().min(0).max(6).describe('0 = Sunday … 6 = Saturday'),
    start: Time.describe('local opening time, HH:MM'),
    end: Time.describe('local closing time, HH:MM; 24:00 = midnight at the end of the day'),
  })
  .strict()
  .meta({ id: 'BusinessHoursSpan' });

const BusinessHours = z
  .array(BusinessHoursSpan)
  .min(1, 'needs at least one span; null means around the clock')
  .max(70)
  .superRefine((spans, ctx) => {
    spans.forEach((s, i) => {
      const start = minutesOf(s.start);
      const end = minutesOf(s.end);
      if (start !== null && end !== null && start >= end) ctx.addIssue({ code: 'custom', path: [i, 'end'], message: 'must be after start' });
    });
    // no two spans of one day may overlap (touching is fine: 09:00–12:00 and 12:00–17:00)
    spans.forEach((s, i) => {
      const clash = spans.findIndex((o, j) => j < i && o.day === s.day && overlaps(o, s));
      if (clash >= 0) ctx.addIssue({ code: 'custom', path: [i], message: `overlaps businessHours.${clash} on day ${s.day}` });
    });
  });

function overlaps(a: { start: string; end: string }, b: { start: string; end: string }): boolean {
  const [as, ae, bs, be] = [a.start, a.end, b.start, b.end].map(minutesOf);
  if (as == null || ae == null || bs == null || be == null) return false;
  return as < be && bs < ae;
}

const Holiday = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => DateTime.fromISO(d).isValid, 'is not a calendar date');

const Holidays = z
  .array(Holiday)
  .max(1000)
  .superRefine((days, ctx) => {
    days.forEach((d, i) => {
      if (days.indexOf(d) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `repeats ${d}` });
    });
  });

const Minutes = z.number().int().min(1).max(MAX_TARGET_MINUTES);

export const SlaTarget = z
  .object({
    priority: TicketPriority,
    firstResponseMinutes: Minutes.describe('business minutes from creation to the first public agent reply'),
    resolutionMinutes: Minutes.describe('business minutes from creation to solved'),
  })
  .strict()
  .meta({ id: 'SlaTarget' });

const Targets = z
  .array(SlaTarget)
  .max(TICKET_PRIORITIES.length)
  .superRefine((targets, ctx) => {
    targets.forEach((t, i) => {
      if (targets.findIndex((o) => o.priority === t.priority) !== i) {
        ctx.addIssue({ code: 'custom', path: [i, 'priority'], message: `${t.priority} already has a target` });
      }
    });
  });

const TimeZone = z
  .string()
  .min(1)
  .max(100)
  .refine(isValidTimeZone, 'is not an IANA time zone (such as Asia/Riyadh)');

const writable = {
  name: z.string().trim().min(1).max(200),
  isDefault: z.boolean().describe('the policy of tickets that name none; at most one (setting it unsets the previous default)'),
  timeZone: TimeZone.describe('IANA zone the business hours and holidays are read in; default UTC'),
  businessHours: BusinessHours.nullable().describe('opening hours per weekday; null = around the clock (the default)'),
  holidays: Holidays.describe('local dates on which the clock does not run'),
  targets: Targets.describe('at most one per priority; a priority without a target gets no due times'),
};

export const SlaPolicyCreate = z
  .object(writable)
  .partial()
  .required({ name: true })
  .strict()
  .meta({ id: 'SlaPolicyCreate' });

export const SlaPolicyPatch = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'SlaPolicyPatch', description: 'JSON merge patch: businessHours, holidays and targets are replaced whole' });

export type SlaPolicyCreateInput = z.infer<typeof SlaPolicyCreate>;
export type SlaPolicyPatchInput = z.infer<typeof SlaPolicyPatch>;

export const SlaPolicy = z
  .object({
    ...recordFields,
    name: z.string(),
    isDefault: z.boolean(),
    timeZone: z.string(),
    businessHours: z.array(BusinessHoursSpan).nullable(),
    holidays: z.array(z.string()),
    targets: z.array(SlaTarget),
  })
  .meta({ id: 'SlaPolicy' });

export type SlaPolicyDto = z.infer<typeof SlaPolicy>;

export const SlaPolicyList = z
  .object({ data: z.array(SlaPolicy), nextCursor: z.string().nullable() })
  .meta({ id: 'SlaPolicyList' });

export const SlaPolicyId = z.object({ id: Uuid });

export const slaPolicyFieldNames = Object.keys(SlaPolicy.shape);

export function toSlaPolicyDto(r: SlaPolicyRow): SlaPolicyDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    name: r.name,
    isDefault: r.isDefault,
    timeZone: r.timeZone,
    businessHours: r.businessHours ?? null,
    holidays: r.holidays,
    targets: r.targets,
  };
}
