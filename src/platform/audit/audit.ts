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
