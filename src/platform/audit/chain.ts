import * as crypto from 'node:crypto';
import { asc, gt, isNotNull, isNull, and, desc, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { inTransaction } from '../db/transaction.js';
import { auditLogs } from './audit.table.js';

// Tamper evidence without serialising writers: rows are written unsealed inside each change's
// transaction; one sealer at a time (advisory lock) numbers committed rows and chains their hashes.
const SEALER_LOCK = 7_201_100_004;
const BATCH = 1000;
const GENESIS = '0'.repeat(64);

type AuditRow = typeof auditLogs.$inferSelect;

export type Redactions = NonNullable<AuditRow['redacted']>;

/**
 * One-shot crypto.hash (Node 20.12+) where there is one: a sealed create hashes ~28 small strings (a
 * digest per field), and the Hash object of createHash for each was most of the sealer's CPU.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256 = oneShot ? (text: string) => oneShot('sha256', text, 'hex') : (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** The digest of one top-level field of before/after: what format 2 seals, and what an erasure keeps. */
export function fieldDigest(key: string, value: unknown): string {
  return sha256(JSON.stringify([key, value ?? null]));
}

/** Field digests of one side, sorted by key; an erased field contributes the digest kept at erasure. */
function sideDigests(side: unknown, kept: Record<string, string> | undefined): unknown {
  if (side === null || side === undefined) return null;
  if (typeof side !== 'object' || Array.isArray(side)) return [['', fieldDigest('', side)]];
  const obj = side as Record<string, unknown>;
  // a kept digest stands for an erased (null) value only: a value put back in its place must match itself
  return Object.keys(obj).sort().map((k) => [k, (obj[k] === null && kept?.[k]) || fieldDigest(k, obj[k])]);
}

/**
 * The hashed content of a row: everything but the seal itself, in a fixed order. Format 1 hashed
 * whole values; format 2 hashes a digest per field (and of ip and user agent), so a GDPR erasure can
 * remove values while the seal still verifies against the digests it keeps in `redacted`.
 */
function rowHash(prevHash: string, seq: number, r: AuditRow): string {
  const head = [seq, r.id, r.occurredAt.toISOString(), r.actorType, r.actorId, r.actorRole, r.action, r.entityType, r.entityId];
  const kept = r.redacted ?? {};
  const content = r.hashFormat === 1
    ? JSON.stringify([...head, r.before, r.after, r.requestId, r.ip, r.userAgent])
    : JSON.stringify([
      ...head, sideDigests(r.before, kept.before), sideDigests(r.after, kept.after), r.requestId,
      (r.ip === null && kept.ip) || fieldDigest('ip', r.ip), (r.userAgent === null && kept.userAgent) || fieldDigest('userAgent', r.userAgent),
    ]);
  return sha256(`${prevHash}\n${content}`);
}

/** Seals committed, unsealed audit rows; returns how many. Safe from any process at any time. */
export async function sealAuditLog(db: Executor): Promise<number> {
  return inTransaction(db, async (tx) => {
    const got = await tx.execute(sql`SELECT pg_try_advisory_xact_lock(${SEALER_LOCK}) AS ok`);
    if (!(got as unknown as { rows: { ok: boolean }[] }).rows[0]?.ok) return 0;
    const [last] = await tx.select({ seq: auditLogs.seq, hash: auditLogs.hash }).from(auditLogs).where(isNotNull(auditLogs.seq)).orderBy(desc(auditLogs.seq)).limit(1);
    const rows = await tx.select().from(auditLogs).where(isNull(auditLogs.seq)).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id)).limit(BATCH);
    if (rows.length === 0) return 0;
    let seq = last?.seq ?? 0;
    let prev = last?.hash ?? GENESIS;
    const seals: { id: string; seq: number; prev: string; hash: string }[] = [];
    for (const r of rows) {
      seq += 1;
      const hash = rowHash(prev, seq, r);
      seals.push({ id: r.id, seq, prev, hash });
      prev = hash;
    }
    await tx.execute(sql`
      UPDATE audit_logs a SET seq = s.seq, prev_hash = s.prev, hash = s.hash
      FROM jsonb_to_recordset(${JSON.stringify(seals)}::jsonb) AS s(id uuid, seq bigint, prev text, hash text)
      WHERE a.id = s.id`);
    return rows.length;
  });
}

export interface ChainReport {
  ok: boolean;
  checked: number;
  /** the first row whose seal does not match its content or its predecessor */
  firstBroken?: { id: string | null; seq: number; reason: string };
}

/** Seals what is pending, then walks the whole chain in order and names the first broken row. */
export async function verifyAuditChain(db: Executor): Promise<ChainReport> {
  while ((await sealAuditLog(db)) === BATCH);
  let prev = GENESIS;
  let expected = 1;
  let checked = 0;
  for (;;) {
    const rows = await db.select().from(auditLogs).where(and(isNotNull(auditLogs.seq), gt(auditLogs.seq, expected - 1))).orderBy(asc(auditLogs.seq)).limit(5000);
    if (rows.length === 0) return { ok: true, checked };
    for (const r of rows) {
      const seq = r.seq as number;
      if (seq !== expected) return { ok: false, checked, firstBroken: { id: null, seq: expected, reason: 'row missing (deleted)' } };
      if (r.prevHash !== prev) return { ok: false, checked, firstBroken: { id: r.id, seq, reason: 'previous hash does not match' } };
      // a format-1 row erased before format 2 existed cannot be recomputed: its place in the chain still is
      const erasedFormat1 = r.hashFormat === 1 && r.redacted !== null;
      if (!erasedFormat1 && rowHash(prev, seq, r) !== r.hash) return { ok: false, checked, firstBroken: { id: r.id, seq, reason: 'content does not match its hash' } };
      prev = r.hash as string;
      expected += 1;
      checked += 1;
    }
  }
}
