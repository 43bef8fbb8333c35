import t from 'tap';
import { randomUUID } from 'node:crypto';
import { ROLES, type Actor, type Role } from '../../src/platform/auth/actor.js';
import {
  type Resource, assertCan, assertOwnershipAssignable, can, inScope,
} from '../../src/platform/auth/permissions.js';
import { AppError } from '../../src/platform/errors/app-error.js';

// API.md §4, transcribed cell by cell independently of src/platform/auth/permissions.ts, so a change
// to the table in code that the contract does not make fails here. r/w: read/write; 'own' marks a
// scoped grant (own/team, or own/team/unowned for customers); '-' no access.
type Cell = '-' | 'r' | 'rw' | 'r,w-own' | 'rw-own' | 'r-own';
const CONTRACT: Record<Resource, Record<Role, Cell>> = {
  users: { admin: 'rw', manager: 'r', sales: '-', support: '-', marketing: '-', viewer: '-' },
  teams: { admin: 'rw', manager: 'r', sales: '-', support: '-', marketing: '-', viewer: '-' },
  api_keys: { admin: 'rw', manager: '-', sales: '-', support: '-', marketing: '-', viewer: '-' },
  audit_logs: { admin: 'rw', manager: '-', sales: '-', support: '-', marketing: '-', viewer: '-' },
  config: { admin: 'rw', manager: 'rw', sales: 'r', support: 'r', marketing: 'r', viewer: 'r' },
  customers: { admin: 'rw', manager: 'rw', sales: 'r,w-own', support: 'rw', marketing: 'rw', viewer: 'r' },
  leads: { admin: 'rw', manager: 'rw', sales: 'rw-own', support: '-', marketing: 'rw', viewer: 'r' },
  deals: { admin: 'rw', manager: 'rw', sales: 'rw-own', support: '-', marketing: 'r', viewer: 'r' },
  forecast: { admin: 'rw', manager: 'rw', sales: 'r-own', support: '-', marketing: 'r', viewer: 'r' },
  tickets: { admin: 'rw', manager: 'rw', sales: 'r', support: 'rw', marketing: '-', viewer: 'r' },
  segments: { admin: 'rw', manager: 'rw', sales: 'r', support: '-', marketing: 'rw', viewer: 'r' },
  campaigns: { admin: 'rw', manager: 'rw', sales: 'r', support: '-', marketing: 'rw', viewer: 'r' },
  orders: { admin: 'rw', manager: 'rw', sales: 'r', support: 'r', marketing: 'r', viewer: 'r' },
  loyalty: { admin: 'rw', manager: 'rw', sales: 'rw', support: 'r', marketing: 'r', viewer: 'r' },
  feedback: { admin: 'rw', manager: 'rw', sales: 'r', support: 'rw', marketing: 'r', viewer: 'r' },
  analytics: { admin: 'r', manager: 'r', sales: 'r-own', support: 'r', marketing: 'r', viewer: 'r' },
  gdpr: { admin: 'rw', manager: 'r', sales: '-', support: '-', marketing: '-', viewer: '-' },
  events: { admin: 'r', manager: 'r', sales: '-', support: '-', marketing: '-', viewer: '-' },
};

const actor = (role: Role, teamIds: string[] = []): Actor => ({ type: 'user', id: randomUUID(), role, teamIds });

t.test('every cell of the role table', async (t) => {
  for (const [resource, row] of Object.entries(CONTRACT) as [Resource, Record<Role, Cell>][]) {
    for (const role of ROLES) {
      const cell = row[role];
      const a = actor(role);
      const reads = cell !== '-';
      const writes = cell === 'rw' || cell === 'rw-own' || cell === 'r,w-own';
      t.equal(can(a, resource, 'read'), reads, `${role} read ${resource}`);
      t.equal(can(a, resource, 'write'), writes, `${role} write ${resource}`);
      if (!reads) t.throws(() => assertCan(a, resource, 'read'), { code: 'forbidden', status: 403 }, `${role} refused ${resource}`);
      if (reads) t.equal(assertCan(a, resource, 'read') === 'all', !cell.startsWith('rw-own') && cell !== 'r-own', `${role} read scope of ${resource}`);
      if (writes) t.equal(assertCan(a, resource, 'write') === 'all', cell === 'rw', `${role} write scope of ${resource}`);
    }
  }
});

t.test('scopes: own, team, unowned', async (t) => {
  const team = randomUUID();
  const sales = actor('sales', [team]);
  const someoneElse = randomUUID();
  t.ok(inScope(sales, 'own_team', { ownerId: sales.id, teamId: null }), 'own record');
  t.ok(inScope(sales, 'own_team', { ownerId: someoneElse, teamId: team }), 'team record');
  t.notOk(inScope(sales, 'own_team', { ownerId: null, teamId: null }), 'unowned is not own/team');
  t.ok(inScope(sales, 'own_team_unowned', { ownerId: null, teamId: null }), 'unowned counts for customers');
  t.notOk(inScope(sales, 'own_team_unowned', { ownerId: someoneElse, teamId: randomUUID() }), 'another team');
  t.ok(inScope(sales, 'all', { ownerId: someoneElse, teamId: null }), 'all');
});

t.test('ownership fields only admin and manager may give away', async (t) => {
  const team = randomUUID();
  for (const role of ['admin', 'manager'] as const) {
    t.doesNotThrow(() => assertOwnershipAssignable(actor(role), { ownerId: randomUUID(), teamId: randomUUID() }), role);
  }
  for (const role of ['sales', 'support', 'marketing', 'viewer'] as const) {
    const a = actor(role, [team]);
    t.doesNotThrow(() => assertOwnershipAssignable(a, { ownerId: a.id, teamId: team }), `${role} to self and own team`);
    t.doesNotThrow(() => assertOwnershipAssignable(a, { ownerId: null }), `${role} clearing the owner`);
    const owner = (() => { try { assertOwnershipAssignable(a, { ownerId: randomUUID() }); } catch (e) { return e; } })();
    t.ok(owner instanceof AppError && owner.code === 'forbidden' && owner.errors?.[0]?.path === 'ownerId', `${role} ownerId refused by name`);
    const teamErr = (() => { try { assertOwnershipAssignable(a, { teamId: randomUUID() }); } catch (e) { return e; } })();
    t.ok(teamErr instanceof AppError && teamErr.code === 'forbidden' && teamErr.errors?.[0]?.path === 'teamId', `${role} teamId refused by name`);
  }
});
