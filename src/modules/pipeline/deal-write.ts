import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertOwnershipAssignable, inScope, scopeCondition } from '../../platform/auth/permissions.js';
import { AppError, notFound } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { type EmitInput, emit } from '../../platform/events/outbox.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import type { ValidateCustom } from '../customer/index.js';
import { DealCreate, type DealCreateInput, DealPatch, type DealRecord, toDealDto } from './deal.schema.js';
import type { DealInsert } from './deal.table.js';
import type { StageRow } from './pipeline.table.js';
import * as repo from './deal.repository.js';
import { checkDeal } from './deal-checks.js';
import { closePlace, lockStages, openPlace, reorder } from './deal-position.js';
import { recordStageChange } from './deal-history.js';

// The write side of deals: every write is the row, its contacts, its stage history, the audit row
// and the events, in the caller's transaction. Lock order (deal-position.ts): stages, then the deal.

const ENTITY = 'deal';
const OBJECT_FIELDS = ['custom'] as const;
const ACTIONS: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' };


const changedBy = (ctx: RequestContext) => (ctx.actor.type === 'system' ? null : ctx.actor.id);

export function createDealWriter(deps: { validateCustom: ValidateCustom }) {
  /** The write scope as SQL: out-of-scope deals are invisible (404), also to writes. */
  const writeScope = (ctx: RequestContext) => scopeCondition(ctx.actor, assertCan(ctx.actor, 'deals', 'write'), repo.ownedColumns);

  /** A scoped writer (sales) may not hand a deal out of its own scope: it would vanish from under it. */
  function assertStaysInScope(ctx: RequestContext, rec: { ownerId: string | null; teamId: string | null }): void {
    if (!inScope(ctx.actor, assertCan(ctx.actor, 'deals', 'write'), rec)) {
      throw new AppError('forbidden', 'The deal would leave your scope: it must stay yours or your team\'s', {
        errors: [{ path: 'ownerId', message: 'must leave the deal with you or one of your teams' }],
      });
    }
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: DealRecord | null, after: DealRecord): Promise<void> {
    const b = before ? toDealDto(before) : null;
    const a = toDealDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const list: EmitInput[] = [{ type: `${ENTITY}.${ACTIONS[action] ?? action}`, entityType: ENTITY, entityId: after.id, before: b, after: a }];
    if (before && before.stageId !== after.stageId) list.push({ type: 'deal.stage_changed', entityType: ENTITY, entityId: after.id, before: b, after: a });
    if (after.status !== 'open' && after.status !== (before?.status ?? 'open')) {
      list.push({ type: `deal.${after.status}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
    }
    await emit(tx, ctx, list);
  }

  /** Locks the live, in-scope deal; when the write reorders, its stage (and `alsoStage`) first. */
  async function lockForWrite(tx: Executor, ctx: RequestContext, id: string, reorders: boolean, alsoStage?: string) {
    let stages = new Map<string, StageRow>();
    if (reorders) {
      const peek = await repo.findDeal(tx, id, writeScope(ctx));
      if (!peek || peek.deletedAt) throw notFound('Deal');
      stages = await lockStages(tx, alsoStage ? [peek.stageId, alsoStage] : [peek.stageId]);
    }
    const current = await repo.lockDeal(tx, id);
    if (!current || current.deletedAt || !inScope(ctx.actor, assertCan(ctx.actor, 'deals', 'write'), current)) throw notFound('Deal');
    // moved by someone else between the look and the lock: lock its stage too (out of order, so a
    // deadlock is possible here; Postgres detects it and inTransaction retries)
    if (reorders && !stages.has(current.stageId)) for (const [k, v] of await lockStages(tx, [current.stageId])) stages.set(k, v);
    return { current, stages };
  }

  async function createIn(tx: Executor, ctx: RequestContext, raw: unknown, o: { leadId?: string } = {}): Promise<DealRecord> {
    const parsed = parseInput(DealCreate, raw) as DealCreateInput;
    const stages = await lockStages(tx, [parsed.stageId.toLowerCase()]);
    const { input, status, lostReason } = await checkDeal(tx, deps.validateCustom, parsed, undefined, stages.get(parsed.stageId.toLowerCase()) ?? null);
    assertOwnershipAssignable(ctx.actor, input);
    const ownerId = input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null;
    const teamId = input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null;
    assertStaysInScope(ctx, { ownerId, teamId });
    const { contactIds = [], position: requested, ...fields } = input as DealCreateInput;
    const stageId = fields.stageId;
    const position = await openPlace(tx, stageId, requested);
    const row = await repo.insertDeal(tx, {
      ...(fields as DealInsert), stageId, ownerId, teamId, status, lostReason, position, leadId: o.leadId ?? null,
      closedAt: status === 'open' ? null : sql`now()` as unknown as Date, stageEnteredAt: sql`now()` as unknown as Date,
    });
    await repo.replaceContacts(tx, row.id, contactIds);
    await recordStageChange(tx, { dealId: row.id, fromStageId: null, toStageId: stageId, changedBy: changedBy(ctx), enteredPreviousAt: null });
    const rec = { ...row, contactIds };
    await written(tx, ctx, 'create', null, rec);
    return rec;
  }

  async function updateIn(tx: Executor, ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<{ row: DealRecord; changed: boolean }> {
    const patch = parseInput(DealPatch, raw);
    const target = patch.stageId?.toLowerCase();
    const reorders = target !== undefined || patch.position !== undefined;
    const { current, stages } = await lockForWrite(tx, ctx, id, reorders, target);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('version_conflict', `The deal is at version ${current.version}, not ${expectedVersion}`, {
        extensions: { current: toDealDto(current) },
      });
    }
    const checked = await checkDeal(tx, deps.validateCustom, patch, current, target === undefined ? undefined : stages.get(target) ?? null);
    assertOwnershipAssignable(ctx.actor, checked.input);
    const { contactIds, position: requested, ...fields } = checked.input;
    const changes = applyPatch(current as unknown as Record<string, unknown>, fields, OBJECT_FIELDS) as Partial<DealInsert>;
    const next = { ...current, ...changes };
    assertStaysInScope(ctx, next);
    if (checked.lostReason !== current.lostReason) changes.lostReason = checked.lostReason;
    else delete changes.lostReason;
    if (checked.status !== current.status) {
      changes.status = checked.status;
      changes.closedAt = (checked.status === 'open' ? null : sql`now()`) as Date | null;
    }
    const stageChanged = changes.stageId !== undefined && changes.stageId !== current.stageId;
    const position = await place(tx, current, stageChanged ? (changes.stageId as string) : undefined, requested);
    if (position !== current.position) changes.position = position;
    if (stageChanged) changes.stageEnteredAt = sql`now()` as unknown as Date;
    if (changes.name !== undefined) changes.searchText = repo.dealSearchText({ name: changes.name });
    const contactsChanged = contactIds !== undefined && JSON.stringify(contactIds) !== JSON.stringify(current.contactIds);
    if (Object.keys(changes).length === 0 && !contactsChanged) return { row: current, changed: false };

    const row = await repo.updateDeal(tx, id, changes);
    if (contactsChanged) await repo.replaceContacts(tx, id, contactIds);
    if (stageChanged) {
      await recordStageChange(tx, {
        dealId: id, fromStageId: current.stageId, toStageId: row.stageId, changedBy: changedBy(ctx), enteredPreviousAt: current.stageEnteredAt,
      });
    }
    const rec = { ...row, contactIds: contactsChanged ? contactIds : current.contactIds };
    await written(tx, ctx, 'update', current, rec);
    return { row: rec, changed: true };
  }

  /** The position the deal ends at: moved to another stage, reordered within its own, or where it is. */
  async function place(tx: Executor, current: DealRecord, toStage: string | undefined, requested: number | undefined): Promise<number> {
    if (toStage !== undefined) {
      await closePlace(tx, current.stageId, current.position, current.id);
      return openPlace(tx, toStage, requested, current.id);
    }
    if (requested === undefined || requested === current.position) return current.position;
    return reorder(tx, current.stageId, current.id, current.position, requested);
  }

  async function removeIn(tx: Executor, ctx: RequestContext, id: string): Promise<DealRecord> {
    const { current } = await lockForWrite(tx, ctx, id, true);
    const row = await repo.updateDeal(tx, id, { deletedAt: new Date() });
    await closePlace(tx, current.stageId, current.position, id);
    const rec = { ...row, contactIds: current.contactIds };
    await written(tx, ctx, 'delete', current, rec);
    return rec;
  }

  async function restoreIn(tx: Executor, ctx: RequestContext, id: string): Promise<DealRecord> {
    const scope: SQL | undefined = writeScope(ctx);
    const peek = await repo.findDeal(tx, id, scope);
    if (!peek) throw notFound('Deal');
    if (!peek.deletedAt) return peek; // already live: restoring again changes nothing
    const stage = (await lockStages(tx, [peek.stageId])).get(peek.stageId);
    const current = await repo.lockDeal(tx, id);
    if (!current) throw notFound('Deal');
    if (!current.deletedAt) return current;
    if (!stage || stage.deletedAt) {
      throw new AppError('conflict', 'The deal\'s stage was removed while the deal was deleted; it cannot come back to it', {
        errors: [{ path: 'stageId', message: 'names a removed stage' }],
      });
    }
    // back at the end of its stage: its old place has been taken meanwhile
    const position = await openPlace(tx, current.stageId, undefined, id);
    const row = await repo.updateDeal(tx, id, { deletedAt: null, position });
    const rec = { ...row, contactIds: current.contactIds };
    await written(tx, ctx, 'restore', current, rec);
    return rec;
  }

  return { createIn, updateIn, removeIn, restoreIn };
}

export type DealWriter = ReturnType<typeof createDealWriter>;
