import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import type { RequestContext } from '../auth/actor.js';
import { auditLogs } from './audit.table.js';
import { BULK_FROM_ROWS, rowsAsSelect } from '../db/bulk-insert.js';

export interface AuditEntry {
  /** `create`, `update`, `delete`, `restore`, or a domain action such as `merge` */
  action: string;
  entityType: string;
  entityId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** Keeps only the fields that changed, so the log reads as a diff and stays small. */
export function changedFields(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): { before: Record<string, unknown> | null; after: Record<string, unknown> | null } {
  if (!before || !after) return { before, after };
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (k === 'updatedAt' || k === 'version') continue;
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) {
      b[k] = before[k] ?? null;
      a[k] = after[k] ?? null;
    }
  }
  return { before: b, after: a };
}

/** Writes the audit row inside the change's own transaction: both commit, or neither. */
export async function recordAudit(tx: Executor, ctx: RequestContext, e: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(e) ? e : [e];
  if (list.length === 0) return;
  const rows = list.map((x) => {
    const diff = x.action === 'update' ? changedFields(x.before, x.after) : { before: x.before, after: x.after };
    return {
      actorType: ctx.actor.type,
      actorId: ctx.actor.id,
      actorRole: ctx.actor.role,
      action: x.action,
      entityType: x.entityType,
      entityId: x.entityId,
      before: diff.before,
      after: diff.after,
      requestId: ctx.requestId,
      ip: ctx.ip ?? null,
      userAgent: ctx.userAgent?.slice(0, 500) ?? null,
    };
  });
  // a batch's rows as one JSON parameter (bulk-insert.ts): the same rows, without a parameter per cell
  const insert = tx.insert(auditLogs);
  await (rows.length >= BULK_FROM_ROWS ? insert.select(rowsAsSelect(auditLogs, rows)) : insert.values(rows));
}

/**
 * The audit rows of a set-based write, for a statement that writes the change and its audit together
 * (a data-modifying CTE): `rows` yields (id, action, entity_type, entity_id, before, after), `before`
 * and `after` as jsonb, already diffed for updates (auditDiffSql). Written in id order, so with ids
 * made in the records' order (uuidv7) the rows follow the records as recordAudit's do; occurred_at is
 * the column default (clock_timestamp()), evaluated after the sort.
 */
export function auditInsertSql(ctx: RequestContext, rows: SQL): SQL {
  return sql`INSERT INTO audit_logs (id, actor_type, actor_id, actor_role, action, entity_type, entity_id, before, after, request_id, ip, user_agent)
    SELECT r.id, ${ctx.actor.type}::text, ${ctx.actor.id}::text, ${ctx.actor.role}::text, r.action, r.entity_type, r.entity_id, r.before, r.after,
      ${ctx.requestId}::text, ${ctx.ip ?? null}::text, ${ctx.userAgent?.slice(0, 500) ?? null}::text
    FROM (${rows}) r ORDER BY r.id`;
}

/**
 * changedFields in SQL, for two jsonb objects `before` and `after` (expressions): a lateral subquery
 * yielding `before` and `after` holding only the keys whose values differ, updatedAt and version aside
 * (a key missing on one side counts as null there). Both sides come from the database, so jsonb
 * equality is what JSON.stringify's comparison of the same values read back gives.
 */
export function auditDiffSql(before: SQL, after: SQL): SQL {
  // FULL JOIN … USING merges the two key columns: `key` is either side's
  return sql`(SELECT coalesce(jsonb_object_agg(key, coalesce(b.value, 'null'::jsonb)), '{}'::jsonb) AS before,
      coalesce(jsonb_object_agg(key, coalesce(a.value, 'null'::jsonb)), '{}'::jsonb) AS after
    FROM jsonb_each(${before}) b FULL JOIN jsonb_each(${after}) a USING (key)
    WHERE key NOT IN ('updatedAt', 'version') AND b.value IS DISTINCT FROM a.value)`;
}
