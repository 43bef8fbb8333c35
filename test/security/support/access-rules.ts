import type { Actor } from '../../../src/platform/auth/actor.js';
import { type Access, type Resource, type Scope, assertCan, inScope } from '../../../src/platform/auth/permissions.js';
import { type Area, mayRead } from '../../../src/modules/analytics/params.js';
import type { TestUser } from '../../helpers/app.js';
import type { World } from './world.js';

// What each role should get from an operation, worked out from the declared role table
// (platform/auth/permissions.ts, API.md §4) and the analytics areas (modules/analytics/params.ts),
// never written per route by hand. The only hand-written part is which resource a path belongs to.

export interface Rule {
  resource: Resource | 'any';
  access: Access;
  /** restore and the change feed: admin and manager only */
  managerial?: boolean;
  /** analytics figures: any of these areas opens the figure */
  areas?: readonly Area[];
  /** the operation aims at a fixture owned by team B, so record scope applies */
  owned?: boolean;
  /** import jobs belong to whoever started them: only admin and manager see another's */
  ownJobsOnly?: boolean;
}

export type Outcome = { status: 'allowed' } | { status: 403 } | { status: 404 };

const COLLECTIONS: Record<string, Resource | 'any'> = {
  me: 'any', users: 'users', teams: 'teams', 'api-keys': 'api_keys', 'audit-logs': 'audit_logs',
  'custom-fields': 'config', pipelines: 'config', 'scoring-rules': 'config', 'sla-policies': 'config', workflows: 'config', webhooks: 'config',
  contacts: 'customers', companies: 'customers', activities: 'customers', orders: 'orders', feedback: 'feedback',
  leads: 'leads', deals: 'deals', forecast: 'forecast', tickets: 'tickets', segments: 'segments', campaigns: 'campaigns',
  events: 'events', analytics: 'analytics',
};

/** Records that carry an owner and a team, where the sales role's scope decides visibility. */
const OWNED = new Set(['contacts', 'companies', 'activities', 'leads', 'deals']);

const ANALYTICS_AREAS: Record<string, readonly Area[]> = {
  'customers/acquisition-cost': ['marketing', 'customers'],
  'team/performance': ['sales', 'customers', 'service'],
  kpis: [],
};

/** The rule of a REST operation, from its method and path. */
export function restRule(method: string, path: string): Rule {
  const parts = path.split('/').slice(2); // drop '' and 'v1'
  const collection = parts[0] ?? '';
  const tail = parts.slice(1).filter((p) => !p.startsWith('{')).join('/');
  const byId = parts[1]?.startsWith('{') ?? false;
  const access: Access = method === 'GET' || (collection === 'audit-logs' && tail === 'verify') ? 'read' : 'write';
  if (collection === 'analytics') {
    const figure = parts.slice(1).join('/');
    return { resource: 'analytics', access: 'read', areas: ANALYTICS_AREAS[figure] ?? [parts[1] as Area] };
  }
  if (collection === 'imports') {
    // starting an import is a write of the entity; the jobs list is for roles that may write something
    return { resource: 'customers', access: 'write', ownJobsOnly: byId };
  }
  const resource = COLLECTIONS[collection];
  if (!resource) throw new Error(`no resource known for ${method} ${path}: add it to access-rules.ts`);
  // a merge aims at the records named in its body: the world's merges name a fixture as the primary
  const owned = (byId || tail === 'merge') && OWNED.has(collection);
  if (tail === 'restore') return { resource, access: 'write', managerial: true, owned };
  if (collection === 'events') return { resource, access, managerial: true };
  if (byId && collection === 'contacts') {
    if (tail === 'orders') return { resource: 'orders', access };
    if (tail.startsWith('loyalty')) return { resource: 'loyalty', access };
    if (tail === 'export' || tail === 'erase') return { resource: 'gdpr', access };
  }
  return { resource, access, owned };
}

const scopeOf = (actor: Actor, resource: Resource, access: Access): Scope | undefined => {
  try {
    return assertCan(actor, resource, access);
  } catch {
    return undefined;
  }
};

const actorOf = (u: TestUser): Actor => ({ type: 'user', id: u.id, role: u.role, teamIds: u.teamIds });

/** What `caller` should get from an operation with this rule, aimed at the world's fixtures. */
export function expectedOutcome(rule: Rule, caller: TestUser, world: World): Outcome {
  if (rule.resource === 'any') return { status: 'allowed' };
  const actor = actorOf(caller);
  const managerial = caller.role === 'admin' || caller.role === 'manager';
  const scope = scopeOf(actor, rule.resource, rule.access);
  if (!scope) return { status: 403 };
  if (rule.managerial && !managerial) return { status: 403 };
  if (rule.areas?.length && !rule.areas.some((a) => mayRead(actor, a))) return { status: 403 };
  if (rule.ownJobsOnly && !managerial) return { status: 404 };
  if (rule.owned) {
    const fixture = { ownerId: world.ownerB.id, teamId: world.teamB };
    const readScope = scopeOf(actor, rule.resource, 'read');
    if (!readScope || !inScope(actor, readScope, fixture)) return { status: 404 };
    if (!inScope(actor, scope, fixture)) return { status: 403 };
  }
  return { status: 'allowed' };
}

