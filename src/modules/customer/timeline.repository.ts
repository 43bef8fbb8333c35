import { type SQL, and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { auditLogs } from '../../platform/audit/audit.table.js';
import { type ActivityRow, activities as a } from './activity.table.js';
import { companies } from './company.table.js';
import { contacts } from './contact.table.js';

// Queries only: the timeline stream and the activity lists of the 360 view. Scopes come from the service.

/** The kinds this module writes; other modules add theirs through TimelineSource (timeline.service.ts). */
export const TIMELINE_KINDS = ['activity', 'field_change'] as const;
export type TimelineKind = string;

/** Whose timeline: a contact or a company, with the caller's read scopes as SQL. */
export interface TimelineSubject {
  entityType: 'contact' | 'company';
  id: string;
  /** scope over the subject's own table (contacts or companies) */
  subjectScope?: SQL | undefined;
  /** scope over activities */
  activityScope?: SQL | undefined;
}

/** The last item seen: the keyset (occurredAt, kind, id), newest first. */
export interface TimelineKey {
  occurredAt: string;
  kind: TimelineKind;
  id: string;
}

export interface TimelineRow {
  kind: TimelineKind;
  /** ISO 8601 UTC with milliseconds (timestamps are stored at millisecond precision) */
  occurred_at: string;
  id: string;
  entity_type: string;
  entity_id: string;
  /** the activity row as to_jsonb gives it (snake_case), for kind 'activity' */
  record: Record<string, unknown> | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

const isoText = (col: SQL | unknown) => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * One page of a timeline in ONE statement. Each branch of the UNION ALL applies the keyset and its
 * own ORDER BY/LIMIT (so each can walk its index and stop early), then the union is ordered and cut.
 * The subject row is the outer FROM: no row at all means "no such contact/company in your scope"
 * (→ 404), one row with a NULL kind means an empty page.
 *
 * Other modules' items (deals, tickets, orders, campaign events) come in as `extra` branches with
 * the same columns, built by their TimelineSource with the keyset predicate given to it.
 *
 * Returns undefined when the subject is not found, else up to `fetch` rows, newest first.
 */
/** `AND (occurred, kind, id) < cursor`, or nothing on the first page: every branch's keyset. */
export type KeysetPredicate = (occurred: unknown, kind: TimelineKind, id: unknown) => SQL;

export function keysetAfter(after: TimelineKey | undefined): KeysetPredicate {
  return (occurred, kind, id) =>
    after ? sql`AND (${occurred}, ${kind}::text, ${id}) < (${after.occurredAt}::timestamptz, ${after.kind}::text, ${after.id}::uuid)` : sql``;
}

export async function timelinePage(
  db: Executor, s: TimelineSubject, after: TimelineKey | undefined, fetch: number, extra: readonly SQL[] = [],
): Promise<TimelineRow[] | undefined> {
  const table = s.entityType === 'contact' ? contacts : companies;
  const link = s.entityType === 'contact' ? a.contactId : a.companyId;
  const before = keysetAfter(after);
  const query = sql`
    WITH page AS (
      (SELECT 'activity'::text AS kind, ${a.occurredAt} AS occurred_at, ${a.id} AS id, 'activity'::text AS entity_type,
              ${a.id} AS entity_id, to_jsonb(${a}.*) AS record, NULL::jsonb AS before, NULL::jsonb AS after
         FROM ${a}
        WHERE ${link} = ${s.id}::uuid AND ${a.deletedAt} IS NULL ${s.activityScope ? sql`AND ${s.activityScope}` : sql``}
              ${before(a.occurredAt, 'activity', a.id)}
        ORDER BY ${a.occurredAt} DESC, ${a.id} DESC
        LIMIT ${fetch})
      UNION ALL
      (SELECT 'field_change'::text, ${auditLogs.occurredAt}, ${auditLogs.id}, ${auditLogs.entityType},
              ${auditLogs.entityId}, NULL::jsonb, ${auditLogs.before}, ${auditLogs.after}
         FROM ${auditLogs}
        WHERE ${auditLogs.entityType} = ${s.entityType} AND ${auditLogs.entityId} = ${s.id}::uuid AND ${auditLogs.action} = 'update'
              ${before(auditLogs.occurredAt, 'field_change', auditLogs.id)}
        ORDER BY ${auditLogs.occurredAt} DESC, ${auditLogs.id} DESC
        LIMIT ${fetch})
      ${sql.join(extra.map((branch) => sql`UNION ALL (${branch})`), sql` `)}
    )
    SELECT p.kind, ${isoText(sql`p.occurred_at`)} AS occurred_at, p.id, p.entity_type, p.entity_id, p.record, p.before, p.after
      FROM ${table}
      LEFT JOIN (SELECT * FROM page ORDER BY occurred_at DESC, kind DESC, id DESC LIMIT ${fetch}) p ON TRUE
     WHERE ${table.id} = ${s.id}::uuid AND ${table.deletedAt} IS NULL ${s.subjectScope ? sql`AND ${s.subjectScope}` : sql``}
     ORDER BY p.occurred_at DESC, p.kind DESC, p.id DESC`;
  const { rows } = await queryRows<TimelineRow & { kind: TimelineKind | null }>(db, query);
  if (rows.length === 0) return undefined;
  return rows.filter((r) => r.kind !== null);
}

/** The contact's newest activities (360 view). */
export async function recentActivities(db: Executor, contactId: string, limit: number, scope?: SQL): Promise<ActivityRow[]> {
  return db.select().from(a)
    .where(and(eq(a.contactId, contactId), isNull(a.deletedAt), scope))
    .orderBy(desc(a.occurredAt), desc(a.id))
    .limit(limit);
}

/** The contact's open tasks, soonest due first, undated last (360 view). */
export async function openTasks(db: Executor, contactId: string, limit: number, scope?: SQL): Promise<ActivityRow[]> {
  return db.select().from(a)
    .where(and(eq(a.contactId, contactId), eq(a.type, 'task'), isNull(a.completedAt), isNull(a.deletedAt), scope))
    .orderBy(sql`${a.dueAt} ASC NULLS LAST`, asc(a.id))
    .limit(limit);
}
