import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { queryRows, sqlArray } from '../db/execute.js';
import { type Redactions, fieldDigest } from './chain.js';

// GDPR erasure of personal data from the append-only records: the audit log and the outbox. The
// audit log keeps its tamper evidence: a removed value leaves its sealed field digest in `redacted`
// (chain.ts format 2), and the database allows this one kind of UPDATE only inside a transaction that
// declared itself an erasure (migration 0014).

/** What to remove. Needles are lower-case identifying strings (emails, phones, full names). */
export interface ErasureTarget {
  /** records about the person, by entity type: their fields named in `personalKeys` are removed */
  records: { entityType: string; ids: string[]; personalKeys: readonly string[] }[];
  /** values containing one of these are removed wherever they appear */
  needles: string[];
}

export const ERASED = '[erased]';

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const containsNeedle = (text: string, needles: readonly string[]) => {
  const lower = text.toLowerCase();
  return needles.some((n) => lower.includes(n));
};

/**
 * One side (before/after) without personal data: personal keys are nulled (their digests kept), as is
 * any top-level field whose value mentions a needle anywhere inside it. Returns null when nothing changed.
 */
export function scrubSide(
  side: unknown, personalKeys: ReadonlySet<string>, needles: readonly string[],
): { value: Record<string, unknown>; digests: Record<string, string> } | null {
  if (side === null || typeof side !== 'object' || Array.isArray(side)) return null;
  const value = { ...(side as Record<string, unknown>) };
  const digests: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    const personal = personalKeys.has(k) || containsNeedle(JSON.stringify(v), needles);
    if (!personal) continue;
    digests[k] = fieldDigest(k, v);
    value[k] = null;
  }
  return Object.keys(digests).length ? { value, digests } : null;
}

/** The rows about the target's records, or whose JSON columns mention a needle. */
export function erasureCandidates(jsonColumns: string[], target: ErasureTarget): SQL {
  const byRecord = target.records.filter((r) => r.ids.length).map((r) =>
    sql`(entity_type = ${r.entityType} AND entity_id = ANY(${sqlArray(r.ids, 'uuid')}))`);
  const patterns = sqlArray(target.needles.map((n) => `%${escapeLike(n)}%`), 'text');
  const byText = target.needles.length ? jsonColumns.map((c) => sql`lower(${sql.raw(c)}::text) LIKE ANY(${patterns})`) : [];
  const any = [...byRecord, ...byText];
  return any.length ? sql.join(any, sql` OR `) : sql`FALSE`;
}

/** The personal keys of a record of the target, empty for records that only mention a needle. */
export const personalKeysOf = (target: ErasureTarget) => {
  const map = new Map<string, Set<string>>();
  for (const r of target.records) for (const id of r.ids) map.set(`${r.entityType}:${id}`, new Set(r.personalKeys));
  return (entityType: string, entityId: string) => map.get(`${entityType}:${entityId}`) ?? new Set<string>();
};

interface AuditCandidate {
  id: string; entity_type: string; entity_id: string; actor_type: string;
  before: unknown; after: unknown; ip: string | null; user_agent: string | null; redacted: Redactions | null;
}

/** Removes the person's data from the audit log; answers how many rows were redacted. */
export async function eraseFromAuditLog(tx: Executor, target: ErasureTarget): Promise<number> {
  await tx.execute(sql`SET LOCAL crm.audit_erasure = 'on'`);
  const { rows } = await queryRows<AuditCandidate>(tx, sql`
    SELECT id, entity_type, entity_id, actor_type, before, after, ip, user_agent, redacted
    FROM audit_logs WHERE ${erasureCandidates(['before', 'after'], target)}`);
  const keysOf = personalKeysOf(target);
  let changed = 0;
  for (const r of rows) {
    const keys = keysOf(r.entity_type, r.entity_id);
    const before = scrubSide(r.before, keys, target.needles);
    const after = scrubSide(r.after, keys, target.needles);
    const redacted: Redactions = { ...(r.redacted ?? {}) };
    if (before) redacted.before = { ...redacted.before, ...before.digests };
    if (after) redacted.after = { ...redacted.after, ...after.digests };
    // the person's own address and browser: recorded when they acted themselves (an unsubscribe link)
    const ownRecord = keys.size > 0 && r.actor_type === 'system';
    if (ownRecord && r.ip !== null) redacted.ip = fieldDigest('ip', r.ip);
    if (ownRecord && r.user_agent !== null) redacted.userAgent = fieldDigest('userAgent', r.user_agent);
    if (!before && !after && !(ownRecord && (r.ip !== null || r.user_agent !== null))) continue;
    await tx.execute(sql`
      UPDATE audit_logs SET
        before = CASE WHEN ${before !== null} THEN ${before ? JSON.stringify(before.value) : null}::jsonb ELSE before END,
        after = CASE WHEN ${after !== null} THEN ${after ? JSON.stringify(after.value) : null}::jsonb ELSE after END,
        ip = ${ownRecord ? null : r.ip}, user_agent = ${ownRecord ? null : r.user_agent},
        redacted = ${JSON.stringify(redacted)}::jsonb
      WHERE id = ${r.id}`);
    changed += 1;
  }
  return changed;
}
