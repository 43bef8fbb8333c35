import type { SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial, assertOwnershipAssignable } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordChange } from '../../platform/events/record-change.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import type { ContactDto, ContactService } from '../customer/index.js';
import { type SegmentRules, compileRules } from './segment-rules.js';
import { SegmentCreate, type SegmentDto, SegmentPatch, toSegmentDto } from './segment.schema.js';
import type { SegmentRow } from './segment.table.js';
import * as repo from './segment.repository.js';

const ENTITY = 'segment';

export interface SegmentServiceDeps {
  db: Executor;
  contacts: Pick<ContactService, 'filterSpec' | 'list' | 'count'>;
}

function parseId(id: string, path = 'id'): string {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path, message: 'must be a UUID' }]);
  return id;
}

/**
 * Segments (API.md §5 Marketing; resource `segments`): saved rules over contacts, evaluated live.
 * Members are listed and counted through the contact service, so contacts' own scope rules apply.
 */
export function createSegmentService({ db, contacts }: SegmentServiceDeps) {
  /** Rules compiled now (custom fields change): validation errors point into `rules`. */
  const compile = async (rules: SegmentRules, executor?: Executor): Promise<SQL> => compileRules(rules, await contacts.filterSpec(executor));

  const written = (tx: Executor, ctx: RequestContext, action: string, before: SegmentRow | null, after: SegmentRow) =>
    recordChange(tx, ctx, { entityType: ENTITY, action, entityId: after.id, before: before ? toSegmentDto(before) : null, after: toSegmentDto(after) });

  async function lockLive(tx: Executor, id: string): Promise<SegmentRow> {
    const row = await repo.lockSegment(tx, parseId(id));
    if (!row || row.deletedAt) throw notFound('Segment');
    return row;
  }

  function readable(ctx: RequestContext, includeDeleted: boolean | undefined): { includeDeleted: boolean } {
    assertCan(ctx.actor, 'segments', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return { includeDeleted: includeDeleted ?? false };
  }

  async function liveSegment(ctx: RequestContext, id: string): Promise<SegmentRow> {
    assertCan(ctx.actor, 'segments', 'read');
    const row = await repo.findSegment(db, parseId(id));
    if (!row || row.deletedAt) throw notFound('Segment');
    return row;
  }

  return {
    compile,

    async create(ctx: RequestContext, raw: unknown): Promise<SegmentDto> {
      assertCan(ctx.actor, 'segments', 'write');
      const input = parseInput(SegmentCreate, raw);
      assertOwnershipAssignable(ctx.actor, input);
      await compile(input.rules);
      const row = await inTransaction(db, async (tx) => {
        const created = await repo.insertSegment(tx, {
          name: input.name,
          description: input.description ?? null,
          rules: input.rules,
          ownerId: input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null,
          teamId: input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null,
        });
        await written(tx, ctx, 'create', null, created);
        return created;
      });
      return toSegmentDto(row);
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean } = {}): Promise<SegmentDto> {
      const { includeDeleted } = readable(ctx, o.includeDeleted);
      const row = await repo.findSegment(db, parseId(id));
      if (!row || (row.deletedAt && !includeDeleted)) throw notFound('Segment');
      return toSegmentDto(row);
    },

    /** Live segments by id in one query (Campaign.segment's loader). */
    async getMany(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, SegmentDto>> {
      assertCan(ctx.actor, 'segments', 'read');
      const rows = await repo.findSegments(db, [...new Set(ids)].filter((id) => z.uuid().safeParse(id).success));
      return new Map(rows.map((r) => [r.id, toSegmentDto(r)]));
    },

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<SegmentDto>> {
      const o = readable(ctx, q.includeDeleted);
      const list = compileList(repo.segmentCollection, q);
      const rows = await repo.listSegments(db, list, o);
      return toPage(list, rows, (r) => r as unknown as Record<string, unknown>, toSegmentDto);
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const o = readable(ctx, q.includeDeleted);
      return repo.countSegments(db, compileFilter(repo.segmentCollection, q.filter), o);
    },

    /** The segment's members now, paged like GET /v1/contacts (its filters, sort and q narrow them further). */
    async members(ctx: RequestContext, id: string, q: ParsedListQuery): Promise<Page<ContactDto>> {
      const segment = await liveSegment(ctx, id);
      return contacts.list(ctx, { ...q, includeDeleted: false }, await compile(segment.rules));
    },

    async memberCount(ctx: RequestContext, id: string, q: ParsedListQuery = {}): Promise<number> {
      const segment = await liveSegment(ctx, id);
      return contacts.count(ctx, { ...q, includeDeleted: false }, await compile(segment.rules));
    },

    /** A live segment's rules compiled, for a campaign about to send (422 when it is gone). */
    async conditionOf(tx: Executor, segmentId: string): Promise<SQL> {
      const row = await repo.findSegment(tx, segmentId);
      if (!row || row.deletedAt) {
        throw new AppError('invalid_reference', 'The segment does not exist', {
          errors: [{ path: 'segmentId', message: 'does not reference a live segment' }],
        });
      }
      return compile(row.rules, tx);
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<SegmentDto> {
      assertCan(ctx.actor, 'segments', 'write');
      const patch = parseInput(SegmentPatch, raw);
      assertOwnershipAssignable(ctx.actor, patch);
      if (patch.rules) await compile(patch.rules);
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The segment is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toSegmentDto(current) },
          });
        }
        // rules replace whole: merging two rule trees key by key would make rules nobody wrote
        const changes = applyPatch(toSegmentDto(current) as unknown as Record<string, unknown>, patch, []) as Partial<SegmentRow>;
        if (Object.keys(changes).length === 0) return current;
        const updated = await repo.updateSegment(tx, current.id, changes);
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      return toSegmentDto(row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'segments', 'write');
      await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        await written(tx, ctx, 'delete', current, await repo.updateSegment(tx, current.id, { deletedAt: new Date() }));
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<SegmentDto> {
      assertCan(ctx.actor, 'segments', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockSegment(tx, parseId(id));
        if (!current) throw notFound('Segment');
        if (!current.deletedAt) return current;
        const restored = await repo.updateSegment(tx, current.id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toSegmentDto(row);
    },
  };
}

export type SegmentService = ReturnType<typeof createSegmentService>;
