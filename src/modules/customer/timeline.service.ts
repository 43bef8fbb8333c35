import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, scopeCondition } from '../../platform/auth/permissions.js';
import { notFound, validationFailed } from '../../platform/errors/app-error.js';
import { MAX_LIMIT, type Page } from '../../platform/http/collection.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { type ActivityDto, toActivityDto } from './activity.schema.js';
import type { ActivityRow } from './activity.table.js';
import type { CompanyDto } from './company.schema.js';
import type { ContactDto } from './contact.schema.js';
import { ownedColumns as activityOwned } from './activity.repository.js';
import { ownedColumns as companyOwned } from './company.repository.js';
import { ownedColumns as contactOwned } from './contact.repository.js';
import * as repo from './timeline.repository.js';

export interface TimelineItem {
  type: repo.TimelineKind;
  occurredAt: string;
  entityType: string;
  entityId: string;
  summary: string;
  data: Record<string, unknown>;
}

/**
 * The whole customer in one call. openDeals, openTickets, orders, lifetimeValue, loyaltyBalance and
 * lastNps of API.md §5 are deliberately absent, not zero: their modules (deals, tickets, orders,
 * loyalty, feedback) do not exist yet, and a made-up 0 would read as a fact. Each joins this object
 * (as one more batched query in view360) when its module lands.
 */
export interface Contact360 {
  contact: ContactDto;
  company: CompanyDto | null;
  recentActivities: ActivityDto[];
  openTasks: ActivityDto[];
}

export interface TimelineServiceDeps {
  db: Executor;
  /** a contact in the caller's scope (404 otherwise): the contact service's get */
  contact: (ctx: RequestContext, id: string) => Promise<ContactDto>;
  /** companies by id in the caller's scope, one query */
  companies: (ctx: RequestContext, ids: readonly string[]) => Promise<Map<string, CompanyDto>>;
}

const CURSOR_SORT = 'timeline';
const DEFAULT_LIMIT = 50;
export const RECENT_ACTIVITIES = 10;
/** open tasks shown in the 360 view; the full list is GET /v1/activities with filters */
export const OPEN_TASKS = 50;

const Id = z.uuid();

function parseId(id: string): string {
  if (!Id.safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
  return id;
}

function parseLimit(limit: number | undefined): number {
  const n = limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw validationFailed([{ path: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
  return n;
}

function parseCursor(text: string | undefined): repo.TimelineKey | undefined {
  if (text === undefined) return undefined;
  const c = decodeCursor(text);
  const [occurredAt, kind, id] = c?.v ?? [];
  if (
    c?.s !== CURSOR_SORT || c.v.length !== 3 || !occurredAt || Number.isNaN(Date.parse(occurredAt)) ||
    !(repo.TIMELINE_KINDS as readonly (string | null | undefined)[]).includes(kind) || !id || !Id.safeParse(id).success
  ) {
    throw validationFailed([{ path: 'cursor', message: 'is not a cursor of this timeline' }]);
  }
  return { occurredAt, kind: kind as repo.TimelineKind, id };
}

const dateOf = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null);

/** to_jsonb(activities.*) is snake_case with text timestamps: back to the row the DTO mapper takes. */
function activityFromJson(j: Record<string, unknown>): ActivityRow {
  return {
    id: j.id, createdAt: dateOf(j.created_at), updatedAt: dateOf(j.updated_at), version: j.version, deletedAt: dateOf(j.deleted_at),
    type: j.type, subject: j.subject, body: j.body, direction: j.direction, occurredAt: dateOf(j.occurred_at),
    dueAt: dateOf(j.due_at), completedAt: dateOf(j.completed_at), contactId: j.contact_id, companyId: j.company_id,
    dealId: j.deal_id, leadId: j.lead_id, ticketId: j.ticket_id, ownerId: j.owner_id, teamId: j.team_id,
  } as ActivityRow;
}

function toItem(r: repo.TimelineRow): TimelineItem {
  if (r.kind === 'activity') {
    const activity = toActivityDto(activityFromJson(r.record ?? {}));
    return {
      type: 'activity', occurredAt: r.occurred_at, entityType: 'activity', entityId: r.entity_id,
      summary: activity.subject ? `${activity.type}: ${activity.subject}` : activity.type, data: activity,
    };
  }
  // audit rows of updates hold only the changed fields (audit.ts changedFields), so their keys name the change
  const fields = Object.keys(r.after ?? r.before ?? {}).sort();
  return {
    type: 'field_change', occurredAt: r.occurred_at, entityType: r.entity_type, entityId: r.entity_id,
    summary: `Changed ${fields.join(', ') || 'nothing'}`, data: { before: r.before ?? {}, after: r.after ?? {} },
  };
}

export function createTimelineService(deps: TimelineServiceDeps) {
  const { db } = deps;

  async function timeline(
    ctx: RequestContext, entityType: 'contact' | 'company', id: string, q: { limit?: number | undefined; cursor?: string | undefined },
  ): Promise<Page<TimelineItem>> {
    const scope = assertCan(ctx.actor, 'customers', 'read');
    parseId(id);
    const limit = parseLimit(q.limit);
    const after = parseCursor(q.cursor);
    const rows = await repo.timelinePage(db, {
      entityType, id,
      subjectScope: scopeCondition(ctx.actor, scope, entityType === 'contact' ? contactOwned : companyOwned),
      activityScope: scopeCondition(ctx.actor, scope, activityOwned),
    }, after, limit + 1);
    if (!rows) throw notFound(entityType === 'contact' ? 'Contact' : 'Company');
    const pageRows = rows.slice(0, limit);
    const cursors = pageRows.map((r) => encodeCursor({ s: CURSOR_SORT, v: [r.occurred_at, r.kind, r.id] }));
    return { items: pageRows.map(toItem), cursors, nextCursor: rows.length > limit ? (cursors.at(-1) ?? null) : null };
  }

  return {
    /** GET /v1/contacts/:id/timeline: activities and field changes, newest first, one statement per page */
    contactTimeline: (ctx: RequestContext, id: string, q: { limit?: number | undefined; cursor?: string | undefined }) =>
      timeline(ctx, 'contact', id, q),
    /** GET /v1/companies/:id/timeline: the company's own activities and field changes */
    companyTimeline: (ctx: RequestContext, id: string, q: { limit?: number | undefined; cursor?: string | undefined }) =>
      timeline(ctx, 'company', id, q),

    /** GET /v1/contacts/:id/360: four statements whatever the contact holds (contact, company, two activity lists). */
    async view360(ctx: RequestContext, id: string): Promise<Contact360> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      const contact = await deps.contact(ctx, parseId(id));
      const activityScope = scopeCondition(ctx.actor, scope, activityOwned);
      const [companies, recent, tasks] = await Promise.all([
        contact.companyId ? deps.companies(ctx, [contact.companyId]) : undefined,
        repo.recentActivities(db, contact.id, RECENT_ACTIVITIES, activityScope),
        repo.openTasks(db, contact.id, OPEN_TASKS, activityScope),
      ]);
      return {
        contact,
        company: contact.companyId ? (companies?.get(contact.companyId) ?? null) : null,
        recentActivities: recent.map(toActivityDto),
        openTasks: tasks.map(toActivityDto),
      };
    },
  };
}

export type TimelineService = ReturnType<typeof createTimelineService>;
