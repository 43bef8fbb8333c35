import type { Executor } from '../../platform/db/client.js';
import { isRole } from '../../platform/auth/actor.js';
import { can } from '../../platform/auth/permissions.js';
import { AppError, type FieldError, validationFailed } from '../../platform/errors/app-error.js';
import type { ValidateCustom } from '../customer/index.js';
import type { SlaPolicyRow } from './sla-policy.table.js';
import type { TicketPatchInput } from './ticket.schema.js';
import type { TicketRow } from './ticket.table.js';
import * as repo from './ticket.repository.js';

// What zod cannot check about a ticket write: custom values, the assignment directive, and the
// references (requester, assignee, team, SLA policy). Malformed input answers 400 first; only a
// well-formed write is checked for references (422).

/** The identity module's lookups, through the write's transaction (PGlite has one connection). */
export interface TicketUserLookups {
  teamMembers(teamIds: readonly string[], ex?: Executor): Promise<Map<string, { id: string; role: string }[]>>;
  activeUsers(ids: readonly string[], ex?: Executor): Promise<Map<string, { id: string; role: string }>>;
}

/** The SLA policies service's resolution: the named live policy (422 when unknown), else the default one. */
export interface PolicyResolver {
  resolveIn(tx: Executor, policyId: string | null): Promise<SlaPolicyRow | null>;
}

export interface TicketCheckDeps {
  validateCustom: ValidateCustom;
  users: TicketUserLookups;
  policies: PolicyResolver;
}

/** Roles that work tickets (admin, manager, support): the only ones a ticket may be assigned to. */
export const worksTickets = (role: string) => isRole(role) && can({ type: 'user', id: '', role, teamIds: [] }, 'tickets', 'write');

const lower = <T extends string | null | undefined>(id: T): T => (typeof id === 'string' ? (id.toLowerCase() as T) : id);

/** Ids lower-cased (they compare with what Postgres answers), the directive checked, custom values normalised. */
export async function checkInput<T extends TicketPatchInput>(
  tx: Executor, deps: TicketCheckDeps, raw: T, current: TicketRow | undefined,
): Promise<T> {
  const input: T = { ...raw };
  for (const k of ['requesterId', 'assigneeId', 'teamId', 'slaPolicyId'] as const) {
    if (input[k] !== undefined) (input as Record<string, unknown>)[k] = lower(input[k]);
  }
  const errors: FieldError[] = [];
  if (input.assignment !== undefined) {
    if (input.assigneeId !== undefined && input.assigneeId !== null) {
      errors.push({ path: 'assignment', message: 'round_robin chooses the assignee: do not send assigneeId with it' });
    }
    const teamId = input.teamId !== undefined ? input.teamId : current?.teamId ?? null;
    if (!teamId) errors.push({ path: 'teamId', message: 'is required with assignment round_robin' });
  }
  // Runs on create even without `custom`: required custom fields must then be reported missing.
  const custom = await deps.validateCustom('ticket', input.custom ?? {}, current ? 'patch' : 'create', tx);
  errors.push(...custom.errors);
  if (errors.length) throw validationFailed(errors);
  await checkReferences(tx, deps, input, current);
  return input.custom !== undefined || !current ? { ...input, custom: custom.values } : input;
}

async function checkReferences(tx: Executor, deps: TicketCheckDeps, input: TicketPatchInput, current: TicketRow | undefined): Promise<void> {
  const refs: FieldError[] = [];
  if (input.requesterId && input.requesterId !== current?.requesterId && !(await repo.liveContactExists(tx, input.requesterId))) {
    refs.push({ path: 'requesterId', message: 'does not reference a live contact' });
  }
  if (input.assigneeId && input.assigneeId !== current?.assigneeId) {
    const user = (await deps.users.activeUsers([input.assigneeId], tx)).get(input.assigneeId);
    if (!user) refs.push({ path: 'assigneeId', message: 'does not reference an active user' });
    else if (!worksTickets(user.role)) refs.push({ path: 'assigneeId', message: `is a ${user.role}: tickets go to admin, manager or support users` });
  }
  if (input.teamId && input.teamId !== current?.teamId && !(await deps.users.teamMembers([input.teamId], tx)).has(input.teamId)) {
    refs.push({ path: 'teamId', message: 'does not reference a live team' });
  }
  if (refs.length) throw new AppError('invalid_reference', 'A referenced record does not exist', { errors: refs });
}

/** Fields a closed ticket still takes: it is final, but may be labelled for reporting. */
const CLOSED_WRITABLE = new Set(['tags', 'custom']);

export function assertClosedUntouched(current: TicketRow, changes: Record<string, unknown>): void {
  if (current.status !== 'closed') return;
  const refused = Object.keys(changes).filter((k) => !CLOSED_WRITABLE.has(k));
  if (refused.length) {
    throw new AppError('conflict', 'The ticket is closed: closed is final', {
      errors: refused.map((path) => ({
        path, message: path === 'status' ? 'a closed ticket is final: it cannot change status' : 'cannot change on a closed ticket: it is final (only tags and custom can)',
      })),
    });
  }
}
