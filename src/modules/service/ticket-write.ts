import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { AppError, notFound } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { type EmitInput, emit } from '../../platform/events/outbox.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import type { SlaPolicyRow } from './sla-policy.table.js';
import { TicketCreate, TicketPatch, toTicketDto } from './ticket.schema.js';
import type { TicketRow, TicketStatus } from './ticket.table.js';
import * as repo from './ticket.repository.js';
import { storedBusinessTimes, ticketCalendars } from './ticket-business-times.js';
import { type TicketCheckDeps, assertClosedUntouched, checkInput, worksTickets } from './ticket-checks.js';
import { type ClockChanges, assertTransition, recomputedDueTimes, statusEffects } from './ticket-rules.js';

// The write side of tickets: every write is the row, the audit row and the events, in the caller's
// transaction. The SLA clock moves here: due times at create, pause and resume with pending, and a
// recomputation whenever priority or policy change.

const ENTITY = 'ticket';
const ACTIONS: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' };

export interface TicketWriterDeps extends TicketCheckDeps {
  /** the customer module's find-or-create by email, in the write's transaction (requesterEmail) */
  contacts: { reuseOrCreateIn(tx: Executor, ctx: RequestContext, record: Record<string, unknown>): Promise<{ contact: { id: string } }> };
}

/** What a comment or a rating changes on its ticket besides its own fields. */
export interface TicketSideEffects {
  status?: TicketStatus;
  set?: Partial<repo.TicketInsert>;
}

export function createTicketWriter(deps: TicketWriterDeps) {
  async function written(tx: Executor, ctx: RequestContext, action: string, before: TicketRow | null, after: TicketRow): Promise<void> {
    const b = before ? toTicketDto(before) : null;
    const a = toTicketDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const list: EmitInput[] = [{ type: `${ENTITY}.${ACTIONS[action] ?? action}`, entityType: ENTITY, entityId: after.id, before: b, after: a }];
    if (before && before.status !== after.status) list.push({ type: 'ticket.status_changed', entityType: ENTITY, entityId: after.id, before: b, after: a });
    if (after.assigneeId && after.assigneeId !== before?.assigneeId) {
      list.push({ type: 'ticket.assigned', entityType: ENTITY, entityId: after.id, before: b, after: a });
    }
    await emit(tx, ctx, list);
  }

  /** The next agent of the team after the one who got its previous ticket, under the team's row lock. */
  async function nextInTurn(tx: Executor, teamId: string): Promise<string | null> {
    const last = await repo.lockRoundRobin(tx, teamId);
    const agents = ((await deps.users.teamMembers([teamId], tx)).get(teamId) ?? []).filter((m) => worksTickets(m.role));
    const next = agents.find((m) => last === null || m.id > last) ?? agents[0];
    if (!next) return null; // nobody to take it: the ticket waits unassigned in the team's queue
    await repo.saveRoundRobin(tx, teamId, next.id);
    return next.id;
  }

  async function lockLive(tx: Executor, id: string): Promise<TicketRow> {
    const row = await repo.lockTicket(tx, id.toLowerCase());
    if (!row || row.deletedAt) throw notFound('Ticket');
    return row;
  }

  async function createIn(tx: Executor, ctx: RequestContext, raw: unknown): Promise<TicketRow> {
    const { requesterEmail, assignment, ...input } = await checkInput(tx, deps, parseInput(TicketCreate, raw), undefined);
    const status = input.status ?? 'new';
    assertTransition('new', status);
    const policy = await deps.policies.resolveIn(tx, input.slaPolicyId ?? null);
    const requesterId = requesterEmail
      ? (await deps.contacts.reuseOrCreateIn(tx, ctx, { email: requesterEmail })).contact.id
      : (input.requesterId as string);
    const now = new Date();
    const priority = input.priority ?? 'normal';
    const start = { status: 'new' as const, priority, createdAt: now, slaPausedAt: null, slaPausedMinutes: 0, solvedAt: null, closedAt: null };
    const { changes } = statusEffects(start, status, policy, now);
    const assigneeId = assignment ? await nextInTurn(tx, input.teamId as string) : input.assigneeId ?? null;
    const slaPolicyId = policy?.id ?? null;
    const instants = { createdAt: now, firstRespondedAt: null, solvedAt: changes.solvedAt ?? null, slaPolicyId };
    const row = await repo.insertTicket(tx, {
      ...input, requesterId, priority, status, assigneeId, createdAt: now, updatedAt: now, slaPolicyId,
      ...recomputedDueTimes(policy, { createdAt: now, priority, slaPausedMinutes: 0 }), ...changes,
      ...storedBusinessTimes(await ticketCalendars(tx), instants),
    });
    await written(tx, ctx, 'create', null, row);
    return row;
  }

  /** The policy the write leaves the ticket under, and whether it differs from the current one. */
  async function policyAfter(tx: Executor, current: TicketRow, slaPolicyId: string | null | undefined) {
    if (slaPolicyId === undefined) return { policy: await repo.findPolicy(tx, current.slaPolicyId), changed: false };
    const policy = await deps.policies.resolveIn(tx, slaPolicyId);
    return { policy, changed: (policy?.id ?? null) !== current.slaPolicyId };
  }

  /** Status effects, recomputed due times and the update itself; nothing written when nothing changes. */
  async function apply(
    tx: Executor, ctx: RequestContext, current: TicketRow, to: TicketStatus, changes: Partial<repo.TicketInsert>,
    policy: SlaPolicyRow | null, forceRecompute: boolean,
  ): Promise<{ row: TicketRow; changed: boolean }> {
    assertTransition(current.status, to);
    const effects = statusEffects(current, to, policy, new Date());
    const next = { ...current, ...changes, ...effects.changes } as TicketRow;
    const clock: ClockChanges = effects.recompute || forceRecompute || next.priority !== current.priority ? recomputedDueTimes(policy, next) : {};
    const all: Partial<repo.TicketInsert> = { ...changes, ...effects.changes, ...clock };
    if (to !== current.status) all.status = to;
    if (all.subject !== undefined || all.description !== undefined) all.searchText = repo.ticketSearchText(next);
    const real = Object.fromEntries(Object.entries(all).filter(([k, v]) => !same(v, current[k as keyof TicketRow])));
    if (Object.keys(real).length === 0) return { row: current, changed: false };
    // the stored business times follow the instants they measure, in this transaction (analytics)
    if (BUSINESS_TIME_INPUTS.some((k) => k in real)) Object.assign(real, storedBusinessTimes(await ticketCalendars(tx), next));
    const row = await repo.updateTicket(tx, current.id, real);
    await written(tx, ctx, 'update', current, row);
    return { row, changed: true };
  }

  async function updateIn(tx: Executor, ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<{ row: TicketRow; changed: boolean }> {
    const parsed = parseInput(TicketPatch, raw);
    const current = await lockLive(tx, id);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('version_conflict', `The ticket is at version ${current.version}, not ${expectedVersion}`, {
        extensions: { current: toTicketDto(current) },
      });
    }
    const { assignment, status, slaPolicyId, ...fields } = await checkInput(tx, deps, parsed, current);
    const { policy, changed: policyChanged } = await policyAfter(tx, current, slaPolicyId);
    const changes = applyPatch(current as unknown as Record<string, unknown>, fields, ['custom']) as Partial<repo.TicketInsert>;
    if (policyChanged) changes.slaPolicyId = policy?.id ?? null;
    assertClosedUntouched(current, { ...changes, ...(status && status !== current.status ? { status } : {}), ...(assignment ? { assignment } : {}) });
    if (assignment) changes.assigneeId = await nextInTurn(tx, (changes.teamId ?? current.teamId) as string);
    return apply(tx, ctx, current, status ?? current.status, changes, policy, policyChanged);
  }

  /** A comment's or a rating's consequences for its (locked, live) ticket. */
  async function sideEffectsIn(tx: Executor, ctx: RequestContext, current: TicketRow, e: TicketSideEffects): Promise<TicketRow> {
    const policy = await repo.findPolicy(tx, current.slaPolicyId);
    return (await apply(tx, ctx, current, e.status ?? current.status, e.set ?? {}, policy, false)).row;
  }

  async function removeIn(tx: Executor, ctx: RequestContext, id: string): Promise<TicketRow> {
    const current = await lockLive(tx, id);
    const row = await repo.updateTicket(tx, current.id, { deletedAt: new Date() });
    await written(tx, ctx, 'delete', current, row);
    return row;
  }

  async function restoreIn(tx: Executor, ctx: RequestContext, id: string): Promise<TicketRow> {
    const current = await repo.lockTicket(tx, id.toLowerCase());
    if (!current) throw notFound('Ticket');
    if (!current.deletedAt) return current; // already live: restoring again changes nothing
    const row = await repo.updateTicket(tx, current.id, { deletedAt: null });
    await written(tx, ctx, 'restore', current, row);
    return row;
  }

  return { createIn, updateIn, removeIn, restoreIn, lockLive, sideEffectsIn };
}

/** the ticket fields its stored business times are measured from (besides createdAt, which never changes) */
const BUSINESS_TIME_INPUTS = ['firstRespondedAt', 'solvedAt', 'slaPolicyId'] as const;

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export type TicketWriter = ReturnType<typeof createTicketWriter>;
