import { z } from 'zod';
import type { SQL } from 'drizzle-orm';
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
 * The whole customer in one call. The parts other modules own (openDeals, openTickets, orders,
 * lifetimeValue, loyaltyBalance, lastNps) join through View360Part as those modules land; a part whose
 * module does not exist yet is absent, never a made-up zero.
 */
export interface Contact360 {
  contact: ContactDto;
  company: CompanyDto | null;
  recentActivities: ActivityDto[];
  openTasks: ActivityDto[];
  [part: string]: unknown;
}

/** Another module's items on the timelines (deals' stage changes, converted leads, tickets, …). */
export interface TimelineSource {
  /** the item types this source writes into the `kind` column (cursor validation accepts them) */
  kinds: readonly string[];
  /**
   * One UNION ALL branch for this subject, or undefined when there is nothing to add (the subject kind
   * has no such items, or the caller's role may not read them). Columns, in order: kind text,
   * occurred_at timestamptz, id uuid, entity_type text, entity_id uuid, record jsonb, before jsonb,
   * after jsonb. It must filter with `keyset(occurredAt, kind, id)`, order by occurred_at DESC, id DESC
   * and LIMIT `fetch`, so each branch walks its own index and stops early.
   */
  branch(ctx: RequestContext, subject: { entityType: 'contact' | 'company'; id: string }, keyset: repo.KeysetPredicate, fetch: number): SQL | undefined;
  toItem(row: repo.TimelineRow): TimelineItem;
}

/** A field of the 360 view owned by another module: loaded with the others, in parallel, in a constant number of statements. */
export interface View360Part {
  key: string;
  /** its contract, for the REST response schema (fast-json-stringify drops what the schema does not name) */
  schema: z.ZodType;
  load(ctx: RequestContext, contact: ContactDto): Promise<unknown>;
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

function parseCursor(text: string | undefined, kinds: readonly string[]): repo.TimelineKey | undefined {
  if (text === undefined) return undefined;
  const c = decodeCursor(text);
  const [occurredAt, kind, id] = c?.v ?? [];
  if (
    c?.s !== CURSOR_SORT || c.v.length !== 3 || !occurredAt || Number.isNaN(Date.parse(occurredAt)) ||
    !kind || !kinds.includes(kind) || !id || !Id.safeParse(id).success
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
  const sources: TimelineSource[] = [];
  const parts: View360Part[] = [];
  const kinds = () => [...repo.TIMELINE_KINDS, ...sources.flatMap((s) => s.kinds)];

  async function timeline(
    ctx: RequestContext, entityType: 'contact' | 'company', id: string, q: { limit?: number | undefined; cursor?: string | undefined },
  ): Promise<Page<TimelineItem>> {
    const scope = assertCan(ctx.actor, 'customers', 'read');
    parseId(id);
    const limit = parseLimit(q.limit);
    const after = parseCursor(q.cursor, kinds());
    const keyset = repo.keysetAfter(after);
    const extra = sources.map((src) => src.branch(ctx, { entityType, id }, keyset, limit + 1)).filter((b): b is SQL => b !== undefined);
    const rows = await repo.timelinePage(db, {
      entityType, id,
      subjectScope: scopeCondition(ctx.actor, scope, entityType === 'contact' ? contactOwned : companyOwned),
      activityScope: scopeCondition(ctx.actor, scope, activityOwned),
    }, after, limit + 1, extra);
    if (!rows) throw notFound(entityType === 'contact' ? 'Contact' : 'Company');
    const pageRows = rows.slice(0, limit);
    const cursors = pageRows.map((r) => encodeCursor({ s: CURSOR_SORT, v: [r.occurred_at, r.kind, r.id] }));
    const itemOf = (r: repo.TimelineRow) => sources.find((src) => src.kinds.includes(r.kind))?.toItem(r) ?? toItem(r);
    return { items: pageRows.map(itemOf), cursors: () => cursors, nextCursor: rows.length > limit ? (cursors.at(-1) ?? null) : null };
  }

  return {
    /** Another module adds its items to both timelines (called while the modules are wired, before routes register). */
    addSource(source: TimelineSource): void {
      sources.push(source);
    },
    /** Another module adds a field to the 360 view (same timing as addSource). */
    add360Part(part: View360Part): void {
      parts.push(part);
    },
    /** The parts added so far, for the REST response schema. */
    view360Parts: (): readonly View360Part[] => parts,

    /** GET /v1/contacts/:id/timeline: activities and field changes, newest first, one statement per page */
    contactTimeline: (ctx: RequestContext, id: string, q: { limit?: number | undefined; cursor?: string | undefined }) =>
      timeline(ctx, 'contact', id, q),
    /** GET /v1/companies/:id/timeline: the company's own activities and field changes */
    companyTimeline: (ctx: RequestContext, id: string, q: { limit?: number | undefined; cursor?: string | undefined }) =>
      timeline(ctx, 'company', id, q),

    /** GET /v1/contacts/:id/360: four statements (contact, company, two activity lists) plus one or so per added part, whatever the contact holds. */
    async view360(ctx: RequestContext, id: string): Promise<Contact360> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      const contact = await deps.contact(ctx, parseId(id));
      const activityScope = scopeCondition(ctx.actor, scope, activityOwned);
      const [companies, recent, tasks, ...extra] = await Promise.all([
        contact.companyId ? deps.companies(ctx, [contact.companyId]) : undefined,
        repo.recentActivities(db, contact.id, RECENT_ACTIVITIES, activityScope),
        repo.openTasks(db, contact.id, OPEN_TASKS, activityScope),
        ...parts.map((p) => p.load(ctx, contact)),
      ]);
      return {
        contact,
        company: contact.companyId ? (companies?.get(contact.companyId) ?? null) : null,
        recentActivities: recent.map(toActivityDto),
        openTasks: tasks.map(toActivityDto),
        ...Object.fromEntries(parts.map((p, i) => [p.key, extra[i]])),
      };
    },
  };
}

export type TimelineService = ReturnType<typeof createTimelineService>;
