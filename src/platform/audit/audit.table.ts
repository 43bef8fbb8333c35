import { bigint, index, jsonb, pgTable, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, ts } from '../db/columns.js';

/**
 * Append-only record of every change, written in the same transaction as the change. The sealer
 * (audit/chain.ts) later gives each committed row its place (`seq`) and a hash over the row and the
 * previous hash, so editing or removing any sealed row breaks the chain. A trigger refuses UPDATE
 * and DELETE except the one-time sealing.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: idColumn(),
    occurredAt: ts('occurred_at').notNull().default(sql`clock_timestamp()`),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    actorRole: text('actor_role'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /**
     * Digests of values removed by a GDPR erasure, by side and field ({"before": {"email": "<sha256>"}}):
     * the seal covers field digests (format 2), so an erased row still verifies (chain.ts).
     */
    redacted: jsonb('redacted').$type<{ before?: Record<string, string>; after?: Record<string, string>; ip?: string; userAgent?: string }>(),
    /** how the seal hashes the row: 1 = whole values (rows sealed before erasure existed), 2 = per-field digests */
    hashFormat: smallint('hash_format').notNull().default(2),
    seq: bigint('seq', { mode: 'number' }),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    index('audit_logs_entity_idx').on(t.entityType, t.entityId, t.occurredAt),
    index('audit_logs_actor_idx').on(t.actorId, t.occurredAt),
    index('audit_logs_time_idx').on(t.occurredAt, t.id),
    uniqueIndex('audit_logs_seq_key').on(t.seq),
    index('audit_logs_unsealed_idx').on(t.occurredAt, t.id).where(sql`${t.seq} IS NULL`),
  ],
);
