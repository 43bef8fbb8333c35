import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import {
  assertCan, assertManagerial, assertOwnershipAssignable, inScope, scopeCondition,
} from '../../platform/auth/permissions.js';
import { AppError, type FieldError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import { type BatchResult, runBatch } from '../../platform/http/batch.js';
import {
  ActivityCreate, type ActivityDto, ActivityPatch, type ActivityPatchInput, toActivityDto,
} from './activity.schema.js';
import { type ActivityInsert, type ActivityRow, activities } from './activity.table.js';
import type { CompanyDto } from './company.schema.js';
import { toContactDto } from './contact.schema.js';
import * as repo from './activity.repository.js';
import { rankedCollection } from './search.js';

export interface ActivityServiceDeps {
  db: Executor;
  /** name and email of users by id, for `include=owner` (the identity module's summaries) */
  owners: (ids: readonly (string | null)[]) => Promise<Map<string, { id: string; name: string; email: string }>>;
  /** companies by id, scoped to the caller, for `include=company` (one query) */
  companies: (ctx: RequestContext, ids: readonly string[]) => Promise<Map<string, CompanyDto>>;
}

/**
 * Called inside the transaction of every activity write, after the row is written. Other modules
 * register here (through the customer module's index) to keep derived data current in the same
 * transaction: lead scores count a lead's activities.
 */
export type ActivityWriteHook = (tx: Executor, ctx: RequestContext, before: ActivityRow | null, after: ActivityRow) => Promise<void>;

const ENTITY = 'activity';
const TIME_FIELDS = ['occurredAt', 'dueAt', 'completedAt'] as const;
/** Due and completion times describe a to-do; on a call or a note they would mean nothing, so they are refused. */
const TASK_ONLY = ['dueAt', 'completedAt'] as const;


type Values = Omit<ActivityPatchInput, (typeof TIME_FIELDS)[number]> & Partial<Record<(typeof TIME_FIELDS)[number], Date | null>>;

export function createActivityService(deps: ActivityServiceDeps) {
  const { db } = deps;
  const hooks: ActivityWriteHook[] = [];

  /** Checks what zod cannot (task-only fields, live contact and company) and turns times into Dates. */
  async function check(tx: Executor, input: ActivityPatchInput, current?: ActivityRow): Promise<Values> {
    const out: Record<string, unknown> = { ...input };
    for (const f of TIME_FIELDS) if (typeof input[f] === 'string') out[f] = new Date(input[f]);
    const type = input.type ?? current?.type;
    const errors: FieldError[] = [];
    if (input.occurredAt === null) errors.push({ path: 'occurredAt', message: 'may not be null' });
    if (type !== 'task') {
      for (const f of TASK_ONLY) {
        const value = input[f] !== undefined ? input[f] : current?.[f] ?? null;
        if (value !== null) errors.push({ path: f, message: `only tasks have ${f}; this activity is a ${type}` });
      }
    }
    if (errors.length) throw validationFailed(errors);
    const refs: FieldError[] = [];
    if (input.contactId && input.contactId !== current?.contactId && !(await repo.liveContactExists(tx, input.contactId))) {
      refs.push({ path: 'contactId', message: 'does not reference an existing contact' });
    }
    if (input.companyId && input.companyId !== current?.companyId && !(await repo.liveCompanyExists(tx, input.companyId))) {
      refs.push({ path: 'companyId', message: 'does not reference an existing company' });
    }
    if (refs.length) throw new AppError('invalid_reference', 'A referenced record does not exist', { errors: refs });
    return out as Values;
  }

  async function createIn(tx: Executor, ctx: RequestContext, raw: unknown): Promise<ActivityRow> {
    const input = await check(tx, parseInput(ActivityCreate, raw));
    assertOwnershipAssignable(ctx.actor, input);
    const row = await repo.insertActivity(tx, {
      ...(input as ActivityInsert),
      ownerId: input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null,
      teamId: input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null,
      searchText: repo.activitySearchText(input),
    });
    await written(tx, ctx, 'create', null, row);
    return row;
  }

  async function updateIn(
    tx: Executor, ctx: RequestContext, current: ActivityRow, raw: unknown, expectedVersion?: number,
  ): Promise<{ row: ActivityRow; changed: boolean }> {
    const patch = await check(tx, parseInput(ActivityPatch, raw), current);
    assertOwnershipAssignable(ctx.actor, patch);
    assertWritable(ctx, current);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('version_conflict', `The activity is at version ${current.version}, not ${expectedVersion}`, {
        extensions: { current: toActivityDto(current) },
      });
    }
    const changes = applyPatch(current as unknown as Record<string, unknown>, patch, []) as Partial<ActivityInsert>;
    if (Object.keys(changes).length === 0) return { row: current, changed: false };
    const text = repo.activitySearchText({ ...current, ...changes });
    if (text !== current.searchText) changes.searchText = text;
    const row = await repo.updateActivity(tx, current.id, changes);
    await written(tx, ctx, 'update', current, row);
    return { row, changed: true };
  }

  function assertWritable(ctx: RequestContext, row: ActivityRow): void {
    const scope = assertCan(ctx.actor, 'customers', 'write');
    if (!inScope(ctx.actor, scope, row)) {
      throw new AppError('forbidden', 'Your role may change only activities of yours, your teams or nobody');
    }
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: ActivityRow | null, after: ActivityRow) {
    const b = before ? toActivityDto(before) : null;
    const a = toActivityDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
    for (const hook of hooks) await hook(tx, ctx, before, after);
  }

  async function lockLive(tx: Executor, id: string): Promise<ActivityRow> {
    if (!z.uuid().safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
    const row = await repo.lockActivity(tx, id);
    if (!row || row.deletedAt) throw notFound('Activity');
    return row;
  }

  async function removeIn(tx: Executor, ctx: RequestContext, id: string): Promise<ActivityRow> {
    const current = await lockLive(tx, id);
    assertWritable(ctx, current);
    const row = await repo.updateActivity(tx, id, { deletedAt: new Date() });
    await written(tx, ctx, 'delete', current, row);
    return row;
  }

  /** Embeds the requested relations: one query per relation, whatever the page size. */
  async function withIncludes(ctx: RequestContext, items: ActivityDto[], include: readonly string[] | undefined): Promise<ActivityDto[]> {
    if (!include?.length || items.length === 0) return items;
    const ids = (k: 'contactId' | 'companyId') => [...new Set(items.map((i) => i[k]).filter((v): v is string => !!v))];
    const [owners, companies, contacts] = await Promise.all([
      include.includes('owner') ? deps.owners(items.map((i) => i.ownerId)) : undefined,
      include.includes('company') ? deps.companies(ctx, ids('companyId')) : undefined,
      include.includes('contact') ? loadContacts(ctx, ids('contactId')) : undefined,
    ]);
    return items.map((i) => ({
      ...i,
      ...(owners ? { owner: i.ownerId ? (owners.get(i.ownerId) ?? null) : null } : {}),
      ...(companies ? { company: i.companyId ? (companies.get(i.companyId) ?? null) : null } : {}),
      ...(contacts ? { contact: i.contactId ? (contacts.get(i.contactId) ?? null) : null } : {}),
    }));
  }

  /** Contacts by id in the caller's read scope: one query. */
  async function loadContacts(ctx: RequestContext, ids: readonly string[]) {
    const scope = assertCan(ctx.actor, 'customers', 'read');
    const rows = await repo.findContacts(db, ids, scopeCondition(ctx.actor, scope, repo.contactOwnedColumns));
    return new Map(rows.map((r) => [r.id, toContactDto(r)]));
  }

  return {
    owners: deps.owners,

    /** Registers a hook run in the transaction of every activity write (see ActivityWriteHook). */
    onWrite(hook: ActivityWriteHook): void {
      hooks.push(hook);
    },

    /**
     * Lead conversion: the lead's activities gain the new contact, company and deal where they had
     * none (links already set are kept). Each moved activity is audited and emitted like any update.
     * The conversion's permission covers the move, so activities owned by others move too.
     */
    async relinkLeadIn(
      tx: Executor, ctx: RequestContext, leadId: string, links: { contactId?: string | null; companyId?: string | null; dealId?: string | null },
    ): Promise<number> {
      let moved = 0;
      for (const current of await repo.lockLeadActivities(tx, leadId)) {
        const changes: Partial<ActivityInsert> = {};
        if (!current.contactId && links.contactId) changes.contactId = links.contactId;
        if (!current.companyId && links.companyId) changes.companyId = links.companyId;
        if (!current.dealId && links.dealId) changes.dealId = links.dealId;
        if (Object.keys(changes).length === 0) continue;
        await written(tx, ctx, 'update', current, await repo.updateActivity(tx, current.id, changes));
        moved++;
      }
      return moved;
    },
    companies: deps.companies,
    contacts: loadContacts,

    async create(ctx: RequestContext, input: unknown): Promise<ActivityDto> {
      assertCan(ctx.actor, 'customers', 'write');
      return toActivityDto(await inTransaction(db, (tx) => createIn(tx, ctx, input)));
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean; include?: readonly string[] | undefined } = {}): Promise<ActivityDto> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      if (o.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      if (!z.uuid().safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
      const row = await repo.findActivity(db, id, scopeCondition(ctx.actor, scope, repo.ownedColumns));
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Activity');
      return (await withIncludes(ctx, [toActivityDto(row)], o.include))[0] as ActivityDto;
    },

    async list(ctx: RequestContext, q: ParsedListQuery & { include?: readonly string[] | undefined }): Promise<Page<ActivityDto>> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const list = compileList(q.q ? rankedCollection(repo.activityCollection, activities.searchText, q.q) : repo.activityCollection, q);
      const rows = await repo.listActivities(db, list, {
        includeDeleted: q.includeDeleted ?? false,
        scope: scopeCondition(ctx.actor, scope, repo.ownedColumns),
        q: q.q,
      });
      const page = toPage(list, rows, (r) => r as unknown as Record<string, unknown>, toActivityDto);
      return { ...page, items: await withIncludes(ctx, page.items, q.include) };
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'count deleted records');
      return repo.countActivities(db, compileFilter(repo.activityCollection, q.filter), {
        includeDeleted: q.includeDeleted ?? false,
        scope: scopeCondition(ctx.actor, scope, repo.ownedColumns),
        q: q.q,
      });
    },

    async update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<ActivityDto> {
      assertCan(ctx.actor, 'customers', 'write');
      const r = await inTransaction(db, async (tx) => updateIn(tx, ctx, await lockLive(tx, id), patch, expectedVersion));
      return toActivityDto(r.row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'customers', 'write');
      await inTransaction(db, (tx) => removeIn(tx, ctx, id));
    },

    async restore(ctx: RequestContext, id: string): Promise<ActivityDto> {
      assertCan(ctx.actor, 'customers', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockActivity(tx, id);
        if (!current) throw notFound('Activity');
        if (!current.deletedAt) return current; // already live: restoring again changes nothing
        const restored = await repo.updateActivity(tx, id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toActivityDto(row);
    },

    /** create, update or delete up to 1000 activities matched by id (they have no natural key to upsert by). */
    async batch(
      ctx: RequestContext,
      req: { operation: 'create' | 'update' | 'delete'; records: unknown[]; atomic?: boolean | undefined },
    ): Promise<BatchResult[]> {
      assertCan(ctx.actor, 'customers', 'write');
      return inTransaction(db, (tx) =>
        runBatch(tx, req.records, req.atomic ?? false, ctx.requestId, async (t, raw) => {
          const { id, ...fields } = raw as Record<string, unknown>;
          if (req.operation === 'create') return { id: (await createIn(t, ctx, raw)).id, status: 'created' };
          if (typeof id !== 'string') throw validationFailed([{ path: 'id', message: 'is required to match by id' }]);
          const current = await lockLive(t, id);
          if (req.operation === 'delete') {
            await removeIn(t, ctx, current.id);
            return { id: current.id, status: 'deleted' };
          }
          const r = await updateIn(t, ctx, current, fields);
          return { id: current.id, status: r.changed ? 'updated' : 'unchanged' };
        }),
      );
    },
  };
}

export type ActivityService = ReturnType<typeof createActivityService>;
