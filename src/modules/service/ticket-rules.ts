import { AppError } from '../../platform/errors/app-error.js';
import type { SlaPolicyRow } from './sla-policy.table.js';
import { dueTimes, pausedBusinessMinutes } from './sla.js';
import type { TicketRow, TicketStatus } from './ticket.table.js';

// The business rules of a ticket's life, as pure functions: which status may follow which, and what
// each status change does to the timestamps and the SLA clock.

/**
 * Allowed status changes (staying put is always allowed). closed is final; solved only reopens to open
 * or closes; nothing goes back to new. A ticket is created as if it moved from `new`.
 */
export const TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  new: ['open', 'pending', 'solved', 'closed'],
  open: ['pending', 'solved', 'closed'],
  pending: ['open', 'solved', 'closed'],
  solved: ['open', 'closed'],
  closed: [],
};

export function assertTransition(from: TicketStatus, to: TicketStatus): void {
  if (from === to || TRANSITIONS[from].includes(to)) return;
  const message = from === 'closed'
    ? 'a closed ticket is final: it cannot change status'
    : `cannot go from ${from} to ${to}; allowed: ${TRANSITIONS[from].join(', ')}`;
  throw new AppError('conflict', `The ticket cannot move from ${from} to ${to}`, { errors: [{ path: 'status', message }] });
}

/** The part of a ticket a status change or a recomputation reads. */
export type ClockState = Pick<
  TicketRow,
  'status' | 'priority' | 'createdAt' | 'slaPausedAt' | 'slaPausedMinutes' | 'solvedAt' | 'closedAt'
>;

export type ClockChanges = Partial<Pick<
  TicketRow,
  'slaPausedAt' | 'slaPausedMinutes' | 'solvedAt' | 'closedAt' | 'firstResponseDueAt' | 'resolutionDueAt'
>>;

/**
 * What moving `from` the current state to status `to` changes: pending stops the SLA clock, leaving
 * pending restarts it with the business minutes spent paused added (due times pushed back by them),
 * solving stamps solvedAt and reopening clears it, closing stamps closedAt (and solvedAt when the
 * ticket was never solved: a closed ticket no longer runs a resolution clock).
 */
export function statusEffects(current: ClockState, to: TicketStatus, policy: SlaPolicyRow | null, now: Date): { changes: ClockChanges; recompute: boolean } {
  const changes: ClockChanges = {};
  let recompute = false;
  if (current.status === to) return { changes, recompute };
  if (to === 'pending') changes.slaPausedAt = now;
  if (current.status === 'pending' && current.slaPausedAt) {
    changes.slaPausedMinutes = current.slaPausedMinutes + pausedBusinessMinutes(policy, current.slaPausedAt, now);
    changes.slaPausedAt = null;
    recompute = true;
  }
  if (to === 'solved') changes.solvedAt = now;
  if (to === 'closed') {
    changes.closedAt = now;
    if (!current.solvedAt) changes.solvedAt = now;
  }
  if (to === 'open' && current.solvedAt) changes.solvedAt = null;
  return { changes, recompute };
}

/** The due times under `policy` for the ticket as it will be (priority and paused minutes after the write). */
export function recomputedDueTimes(policy: SlaPolicyRow | null, state: Pick<TicketRow, 'createdAt' | 'priority' | 'slaPausedMinutes'>): ClockChanges {
  return dueTimes(policy, { createdAt: state.createdAt, priority: state.priority, slaPausedMinutes: state.slaPausedMinutes });
}
