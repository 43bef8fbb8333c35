import { type BusinessCalendar, addBusinessMinutes, businessMinutesBetween } from './business-time.js';
import type { SlaPolicyRow, TicketPriority } from './sla-policy.table.js';

/** What a ticket's SLA clock depends on. */
export interface SlaClock { createdAt: Date; priority: TicketPriority; slaPausedMinutes: number }

export interface DueTimes { firstResponseDueAt: Date | null; resolutionDueAt: Date | null }

type PolicyCalendar = Pick<SlaPolicyRow, 'timeZone' | 'businessHours' | 'holidays'>;

export function calendarOf(policy: PolicyCalendar): BusinessCalendar {
  return { timeZone: policy.timeZone, businessHours: policy.businessHours ?? null, holidays: policy.holidays ?? [] };
}

/**
 * Due times of a ticket under a policy (null policy or no target for the priority → nulls).
 * Business minutes spent paused (pending) are added to each target: the clock stood still meanwhile.
 */
export function dueTimes(policy: SlaPolicyRow | null, clock: SlaClock): DueTimes {
  const target = policy?.targets.find((t) => t.priority === clock.priority);
  if (!policy || !target) return { firstResponseDueAt: null, resolutionDueAt: null };
  const cal = calendarOf(policy);
  const paused = Math.max(0, clock.slaPausedMinutes);
  return {
    firstResponseDueAt: addBusinessMinutes(cal, clock.createdAt, target.firstResponseMinutes + paused),
    resolutionDueAt: addBusinessMinutes(cal, clock.createdAt, target.resolutionMinutes + paused),
  };
}

/** Business minutes a pause from `pausedAt` to `resumedAt` lasted under the policy (0 without a policy). */
export function pausedBusinessMinutes(policy: PolicyCalendar | null, pausedAt: Date, resumedAt: Date): number {
  return policy ? businessMinutesBetween(calendarOf(policy), pausedAt, resumedAt) : 0;
}
