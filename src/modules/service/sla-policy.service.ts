import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { newId } from '../../platform/db/columns.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import { SlaPolicyCreate, type SlaPolicyDto, SlaPolicyPatch, toSlaPolicyDto } from './sla-policy.schema.js';
import type { SlaPolicyRow } from './sla-policy.table.js';
import * as repo from './sla-policy.repository.js';

const ENTITY = 'sla_policy';

function parseId(id: string): string {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
  return id;
}

/** SLA policies (API.md §5 Service; resource `config`): every role reads, admin and manager write. */
export function createSlaPolicyService({ db }: { db: Executor }) {
  async function written(tx: Executor, ctx: RequestContext, action: string, before: SlaPolicyRow | null, after: SlaPolicyRow) {
    const b = before ? toSlaPolicyDto(before) : null;
    const a = toSlaPolicyDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
  }

  /** Clears the current default (other than `id`) in the caller's transaction; that change is audited too. */
  async function clearOtherDefault(tx: Executor, ctx: RequestContext, id: string): Promise<void> {
    await repo.lockDefaultSwitch(tx);
    const other = await repo.lockOtherDefault(tx, id);
    if (!other) return;
    await written(tx, ctx, 'update', other, await repo.updatePolicy(tx, other.id, { isDefault: false }));
  }

  async function lockLive(tx: Executor, id: string): Promise<SlaPolicyRow> {
    const row = await repo.lockPolicy(tx, parseId(id));
    if (!row || row.deletedAt) throw notFound('SLA policy');
    return row;
  }

  function readable(ctx: RequestContext, includeDeleted: boolean | undefined): { includeDeleted: boolean } {
    assertCan(ctx.actor, 'config', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return { includeDeleted: includeDeleted ?? false };
  }

  return {
    /**
     * The policy a ticket runs under, read in the caller's transaction: the named live policy, or the
     * live default when none is named (null when there is no default). An unknown or deleted id is 422.
     */
    async resolveIn(tx: Executor, policyId: string | null): Promise<SlaPolicyRow | null> {
      if (policyId === null) return (await repo.defaultPolicy(tx)) ?? null;
      const row = z.uuid().safeParse(policyId).success ? await repo.livePolicy(tx, policyId) : undefined;
      if (!row) {
        throw new AppError('invalid_reference', 'The SLA policy does not exist', {
          errors: [{ path: 'slaPolicyId', message: 'does not reference an existing SLA policy' }],
        });
      }
      return row;
    },

    async create(ctx: RequestContext, raw: unknown): Promise<SlaPolicyDto> {
      assertCan(ctx.actor, 'config', 'write');
      const input = parseInput(SlaPolicyCreate, raw);
      const id = newId();
      const row = await inTransaction(db, async (tx) => {
        if (input.isDefault) await clearOtherDefault(tx, ctx, id);
        const created = await repo.insertPolicy(tx, {
          id,
          name: input.name,
          isDefault: input.isDefault ?? false,
          timeZone: input.timeZone ?? 'UTC',
          businessHours: input.businessHours ?? null,
          holidays: input.holidays ?? [],
          targets: input.targets ?? [],
        });
        await written(tx, ctx, 'create', null, created);
        return created;
      });
      return toSlaPolicyDto(row);
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean } = {}): Promise<SlaPolicyDto> {
      const { includeDeleted } = readable(ctx, o.includeDeleted);
      const row = await repo.findPolicy(db, parseId(id));
      if (!row || (row.deletedAt && !includeDeleted)) throw notFound('SLA policy');
      return toSlaPolicyDto(row);
    },

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<SlaPolicyDto>> {
      const o = readable(ctx, q.includeDeleted);
      const list = compileList(repo.slaPolicyCollection, q);
      const rows = await repo.listPolicies(db, list, o);
      return toPage(list, rows, (r) => r as unknown as Record<string, unknown>, toSlaPolicyDto);
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const o = readable(ctx, q.includeDeleted);
      return repo.countPolicies(db, compileFilter(repo.slaPolicyCollection, q.filter), o);
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<SlaPolicyDto> {
      assertCan(ctx.actor, 'config', 'write');
      const patch = parseInput(SlaPolicyPatch, raw);
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The SLA policy is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toSlaPolicyDto(current) },
          });
        }
        // arrays replace whole (RFC 7396); null businessHours means around the clock
        const changes = applyPatch(toSlaPolicyDto(current) as unknown as Record<string, unknown>, patch, []) as Partial<repo.SlaPolicyInsert>;
        if (Object.keys(changes).length === 0) return current;
        if (changes.isDefault) await clearOtherDefault(tx, ctx, current.id);
        const updated = await repo.updatePolicy(tx, current.id, changes);
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      return toSlaPolicyDto(row);
    },

    /** Soft delete: tickets keep the due times they were given; new tickets can no longer name the policy. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'config', 'write');
      await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        await written(tx, ctx, 'delete', current, await repo.updatePolicy(tx, current.id, { deletedAt: new Date() }));
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<SlaPolicyDto> {
      assertCan(ctx.actor, 'config', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockPolicy(tx, parseId(id));
        if (!current) throw notFound('SLA policy');
        if (!current.deletedAt) return current; // already live: restoring again changes nothing
        // a default replaced while it was deleted comes back as an ordinary policy
        let isDefault = current.isDefault;
        if (isDefault) {
          await repo.lockDefaultSwitch(tx);
          if (await repo.lockOtherDefault(tx, current.id)) isDefault = false;
        }
        const restored = await repo.updatePolicy(tx, current.id, { deletedAt: null, isDefault });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toSlaPolicyDto(row);
    },
  };
}

export type SlaPolicyService = ReturnType<typeof createSlaPolicyService>;
