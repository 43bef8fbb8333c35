import type { Executor } from '../db/client.js';
import type { RequestContext } from '../auth/actor.js';
import { assertCan } from '../auth/permissions.js';
import { type CollectionSpec, type FilterInput, compileList, toPage } from '../http/collection.js';
import { and } from 'drizzle-orm';
import { auditLogs } from './audit.table.js';
import { verifyAuditChain } from './chain.js';

export const auditCollection: CollectionSpec = {
  id: { expr: auditLogs.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-occurredAt',
  fields: {
    occurredAt: { expr: auditLogs.occurredAt, type: 'datetime', nullable: false, sortable: true },
    entityType: { expr: auditLogs.entityType, type: 'string', nullable: false },
    entityId: { expr: auditLogs.entityId, type: 'uuid', nullable: false },
    actorId: { expr: auditLogs.actorId, type: 'string', nullable: true },
    action: { expr: auditLogs.action, type: 'string', nullable: false },
    requestId: { expr: auditLogs.requestId, type: 'string', nullable: true },
  },
};

export interface AuditQuery {
  entityType?: string | undefined;
  entityId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

const toDto = (r: typeof auditLogs.$inferSelect) => ({
  id: r.id,
  occurredAt: r.occurredAt.toISOString(),
  actorType: r.actorType,
  actorId: r.actorId,
  actorRole: r.actorRole,
  action: r.action,
  entityType: r.entityType,
  entityId: r.entityId,
  before: r.before as Record<string, unknown> | null,
  after: r.after as Record<string, unknown> | null,
  requestId: r.requestId,
  ip: r.ip,
  userAgent: r.userAgent,
  seq: r.seq,
});
export type AuditDto = ReturnType<typeof toDto>;

/** Reading the audit log and checking its chain: admins only (API.md §4). */
export function createAuditService({ db }: { db: Executor }) {
  return {
    async list(ctx: RequestContext, q: AuditQuery) {
      assertCan(ctx.actor, 'audit_logs', 'read');
      const filter: FilterInput = {};
      for (const k of ['entityType', 'entityId', 'actorId', 'action'] as const) if (q[k]) filter[k] = { eq: q[k] };
      if (q.from || q.to) filter.occurredAt = { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lt: q.to } : {}) };
      const list = compileList(auditCollection, { limit: q.limit, cursor: q.cursor, filter });
      const rows = await db.select().from(auditLogs).where(and(list.where)).orderBy(...list.orderBy).limit(list.fetch);
      return toPage(list, rows, (r) => r, toDto);
    },

    async verify(ctx: RequestContext) {
      assertCan(ctx.actor, 'audit_logs', 'write');
      return verifyAuditChain(db);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
