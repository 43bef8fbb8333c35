import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../auth/authenticate.js';
import { withProblems } from '../http/problem.schema.js';
import { Timestamp, Uuid } from '../http/common.schema.js';
import { MAX_LIMIT } from '../http/collection.js';
import type { AuditService } from './audit.service.js';

const AuditLog = z
  .object({
    id: Uuid,
    occurredAt: Timestamp,
    actorType: z.string(),
    actorId: z.string().nullable(),
    actorRole: z.string().nullable(),
    action: z.string(),
    entityType: z.string(),
    entityId: Uuid,
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    seq: z.number().int().nullable().describe('position in the tamper-evident chain; null until sealed'),
  })
  .meta({ id: 'AuditLog' });

const AuditQuery = z
  .object({
    entityType: z.string().max(50).optional(),
    entityId: Uuid.optional(),
    actorId: z.string().max(100).optional(),
    action: z.string().max(50).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
    cursor: z.string().max(2048).optional(),
  })
  .strict();

const ChainReport = z
  .object({
    ok: z.boolean(),
    checked: z.number().int(),
    firstBroken: z.object({ id: Uuid.nullable(), seq: z.number().int(), reason: z.string() }).optional(),
  })
  .meta({ id: 'AuditChainReport' });

export const auditRoutes: FastifyPluginAsyncZod<{ audit: AuditService }> = async (app, { audit }) => {
  const tags = ['audit'];
  app.get('/audit-logs', {
    schema: { tags, operationId: 'listAuditLogs', summary: 'The audit log, newest first (admin)', querystring: AuditQuery, response: withProblems({ 200: z.object({ data: z.array(AuditLog), nextCursor: z.string().nullable() }).meta({ id: 'AuditLogList' }) }) },
  }, async (req) => {
    const page = await audit.list(contextOf(req), req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.post('/audit-logs/verify', {
    schema: { tags, operationId: 'verifyAuditLog', summary: 'Check the hash chain; names the first broken row (admin)', response: withProblems({ 200: ChainReport }) },
  }, async (req) => audit.verify(contextOf(req)));
};
