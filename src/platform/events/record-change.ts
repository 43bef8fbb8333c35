import type { Executor } from '../db/client.js';
import type { RequestContext } from '../auth/actor.js';
import { recordAudit } from '../audit/audit.js';
import { emit } from './outbox.js';

/** The feed's name of an audited action: `contact.created` for a create, and so on. */
export const EVENT_OF_ACTION: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' };

/**
 * A write's audit row and its outbox event (`<entity>.<created|updated|deleted|restored>`, plus an
 * optional domain event such as `campaign.sent`), in the caller's transaction: they commit with the change.
 */
export async function recordChange(
  tx: Executor,
  ctx: RequestContext,
  c: { entityType: string; action: string; entityId: string; before: object | null; after: object; domainEvent?: string | undefined },
): Promise<void> {
  await recordAudit(tx, ctx, {
    action: c.action, entityType: c.entityType, entityId: c.entityId,
    before: c.before as Record<string, unknown> | null, after: c.after as Record<string, unknown>,
  });
  const base = { entityType: c.entityType, entityId: c.entityId, before: c.before, after: c.after };
  await emit(tx, ctx, [
    { ...base, type: `${c.entityType}.${EVENT_OF_ACTION[c.action] ?? c.action}` },
    ...(c.domainEvent ? [{ ...base, type: `${c.entityType}.${c.domainEvent}` }] : []),
  ]);
}
