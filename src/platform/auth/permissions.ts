import { type SQL, or, eq, isNull, inArray, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { AppError } from '../errors/app-error.js';
import type { Actor, Role } from './actor.js';

// The role table of API.md §4 as data. Services ask it before anything else, and repositories apply
// the scope it returns in SQL, so REST, GraphQL, lists, counts and exports cannot disagree.

/** all: every record; own_team: owned by the caller or one of the caller's teams; own_team_unowned: that, or no owner. */
export type Scope = 'all' | 'own_team' | 'own_team_unowned';
interface Grant {
  read?: Scope;
  write?: Scope;
}

export type Resource =
  | 'users' | 'teams' | 'api_keys' | 'audit_logs' | 'config' | 'customers' | 'leads' | 'deals' | 'forecast'
  | 'tickets' | 'segments' | 'campaigns' | 'orders' | 'loyalty' | 'feedback' | 'analytics' | 'gdpr' | 'events';

const RW: Grant = { read: 'all', write: 'all' };
const R: Grant = { read: 'all' };
const NONE: Grant = {};

const TABLE: Record<Resource, Record<Role, Grant>> = {
  users: { admin: RW, manager: R, sales: NONE, support: NONE, marketing: NONE, viewer: NONE },
  teams: { admin: RW, manager: R, sales: NONE, support: NONE, marketing: NONE, viewer: NONE },
  api_keys: { admin: RW, manager: NONE, sales: NONE, support: NONE, marketing: NONE, viewer: NONE },
  audit_logs: { admin: RW, manager: NONE, sales: NONE, support: NONE, marketing: NONE, viewer: NONE },
  config: { admin: RW, manager: RW, sales: R, support: R, marketing: R, viewer: R },
  customers: {
    admin: RW, manager: RW, sales: { read: 'all', write: 'own_team_unowned' }, support: RW, marketing: RW, viewer: R,
  },
  leads: {
    admin: RW, manager: RW, sales: { read: 'own_team', write: 'own_team' }, support: NONE, marketing: RW, viewer: R,
  },
  deals: {
    admin: RW, manager: RW, sales: { read: 'own_team', write: 'own_team' }, support: NONE, marketing: R, viewer: R,
  },
  forecast: { admin: RW, manager: RW, sales: { read: 'own_team' }, support: NONE, marketing: R, viewer: R },
  tickets: { admin: RW, manager: RW, sales: R, support: RW, marketing: NONE, viewer: R },
  segments: { admin: RW, manager: RW, sales: R, support: NONE, marketing: RW, viewer: R },
  campaigns: { admin: RW, manager: RW, sales: R, support: NONE, marketing: RW, viewer: R },
  orders: { admin: RW, manager: RW, sales: R, support: R, marketing: R, viewer: R },
  loyalty: { admin: RW, manager: RW, sales: RW, support: R, marketing: R, viewer: R },
  feedback: { admin: RW, manager: RW, sales: R, support: RW, marketing: R, viewer: R },
  analytics: { admin: R, manager: R, sales: { read: 'own_team' }, support: R, marketing: R, viewer: R },
  gdpr: { admin: RW, manager: R, sales: NONE, support: NONE, marketing: NONE, viewer: NONE },
  events: { admin: R, manager: R, sales: NONE, support: NONE, marketing: NONE, viewer: NONE },
};

export type Access = 'read' | 'write';

export function can(actor: Actor, resource: Resource, access: Access): boolean {
  return TABLE[resource][actor.role][access] !== undefined;
}

/** Throws 403 when the role has no such access at all; returns the scope that limits it otherwise. */
export function assertCan(actor: Actor, resource: Resource, access: Access): Scope {
  const scope = TABLE[resource][actor.role][access];
  if (!scope) {
    throw new AppError('forbidden', `The ${actor.role} role may not ${access === 'read' ? 'read' : 'change'} ${resource.replace('_', ' ')}`);
  }
  return scope;
}

const isManagerial = (actor: Actor) => actor.role === 'admin' || actor.role === 'manager';

/** Restoring, reading deleted records and the change feed are for admins and managers (API.md §4). */
export function assertManagerial(actor: Actor, what: string): void {
  if (!isManagerial(actor)) throw new AppError('forbidden', `Only admin and manager may ${what}`);
}

export interface OwnedColumns {
  ownerId: PgColumn;
  teamId: PgColumn;
}

/** The SQL form of a scope, or undefined for "all". */
export function scopeCondition(actor: Actor, scope: Scope, cols: OwnedColumns): SQL | undefined {
  if (scope === 'all') return undefined;
  const mine: SQL[] = [eq(cols.ownerId, actor.id)];
  if (actor.teamIds.length) mine.push(inArray(cols.teamId, actor.teamIds));
  if (scope === 'own_team_unowned') mine.push(isNull(cols.ownerId));
  return or(...mine) ?? sql`FALSE`;
}

/** The same rule as scopeCondition, for a record already loaded. */
export function inScope(actor: Actor, scope: Scope, rec: { ownerId: string | null; teamId: string | null }): boolean {
  if (scope === 'all') return true;
  if (rec.ownerId === actor.id) return true;
  if (rec.teamId && actor.teamIds.includes(rec.teamId)) return true;
  return scope === 'own_team_unowned' && rec.ownerId === null;
}

/**
 * Field-level rule: only admin and manager may give a record to someone else or to a team they
 * are not in. The refusal names the field (403), never silently drops it.
 */
export function assertOwnershipAssignable(actor: Actor, input: { ownerId?: string | null; teamId?: string | null }): void {
  if (isManagerial(actor)) return;
  if (input.ownerId !== undefined && input.ownerId !== null && input.ownerId !== actor.id) {
    throw new AppError('forbidden', 'Only admin and manager may assign records to someone else', {
      errors: [{ path: 'ownerId', message: 'may only be yourself for your role' }],
    });
  }
  if (input.teamId !== undefined && input.teamId !== null && !actor.teamIds.includes(input.teamId)) {
    throw new AppError('forbidden', 'Only admin and manager may assign records to a team they are not in', {
      errors: [{ path: 'teamId', message: 'must be one of your teams for your role' }],
    });
  }
}
