import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import {
  type Scope, assertCan, assertManagerial, assertOwnershipAssignable, inScope, scopeCondition,
} from '../../platform/auth/permissions.js';
import { AppError, type FieldError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import { normalisePhones } from '../../platform/http/phone.js';
import { type BatchResult, type BatchStatus, applyBatchOperation, runBatch } from '../../platform/http/batch.js';
import { type CustomFieldLookup, type ValidateCustom, rankedCollection, searchRank } from '../customer/index.js';
import {
  IDENTIFYING_FIELDS, LeadCreate, type LeadDto, LeadPatch, type LeadPatchInput, type LeadRead, toLeadDto,
} from './lead.schema.js';
import { type LeadInsert, leads } from './lead.table.js';
import * as repo from './lead.repository.js';
import type { Scoring } from './scoring.js';

export interface LeadServiceDeps {
  db: Executor;
  defaultPhoneRegion: string;
  customFields: { validateCustom: ValidateCustom; filterFields: CustomFieldLookup };
  /** name and email of users by id, for `include=owner` and Lead.owner */
  owners: (ids: readonly (string | null)[]) => Promise<Map<string, { id: string; name: string; email: string }>>;
  scoring: Scoring;
}

const ENTITY = 'lead';
const OBJECT_FIELDS = ['custom'] as const;
const EVENT = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' } as Record<string, string>;


/** A row's sort values including `custom.<key>`, so cursors of custom sorts round-trip. */
function sortValues(row: repo.ListedLead): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const [k, v] of Object.entries(row.custom ?? {})) out[`custom.${k}`] = v;
  return out;
}

export function assertUuid(id: string, path = 'id'): void {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path, message: 'must be a UUID' }]);
}

export function createLeadService(deps: LeadServiceDeps) {
  const { db, scoring } = deps;
  const collection = async () => ({ ...repo.leadCollection, dynamicField: await deps.customFields.filterFields(ENTITY, repo.leadCustomColumn) });

  /** Checks what zod cannot: the phone, one identifying field, a converted lead's status, custom values. */
  async function check<T extends LeadPatchInput>(tx: Executor, input: T, current?: LeadRead): Promise<T> {
    const errors: FieldError[] = [];
    const out = normalisePhones(input, ['phone'], deps.defaultPhoneRegion, errors);
    const merged = { ...current, ...out } as Record<string, unknown>;
    if (IDENTIFYING_FIELDS.every((f) => merged[f] === null || merged[f] === undefined)) {
      errors.push({ path: '(root)', message: `needs one of ${IDENTIFYING_FIELDS.join(', ')}` });
    }
    if (current?.status === 'converted' && input.status !== undefined) {
      errors.push({ path: 'status', message: 'the lead is converted; its status stays converted' });
    }
    const custom = await deps.customFields.validateCustom(ENTITY, input.custom ?? {}, current ? 'patch' : 'create', tx);
    errors.push(...custom.errors);
    if (errors.length) throw validationFailed(errors);
    return input.custom !== undefined || !current ? { ...out, custom: custom.values } : out;
  }

  /** Leads are invisible outside a sales caller's scope, so a write may not put one there (nor leave it unowned). */
  function assertStaysInScope(ctx: RequestContext, scope: Scope, rec: { ownerId: string | null; teamId: string | null }): void {
    if (!inScope(ctx.actor, scope, rec)) {
      throw new AppError('forbidden', 'The lead would be out of your reach: it must stay yours or your team\'s', {
        errors: [{ path: 'ownerId', message: 'must leave the lead owned by you or one of your teams' }],
      });
    }
  }

  async function newValues(tx: Executor, ctx: RequestContext, raw: unknown): Promise<LeadInsert> {
    const scope = assertCan(ctx.actor, 'leads', 'write');
    const input = await check(tx, parseInput(LeadCreate, raw));
    assertOwnershipAssignable(ctx.actor, input);
    const values = {
      ...input,
      ownerId: input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null,
      teamId: input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null,
    };
    assertStaysInScope(ctx, scope, values);
    return values;
  }

  /** The stored lead after a write: rescored in the same transaction, re-read with its matching contact. */
  async function settled(tx: Executor, id: string): Promise<LeadRead> {
    await scoring.rescoreIn(tx, [id]);
    return (await repo.findLead(tx, id)) as LeadRead;
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: LeadRead | null, after: LeadRead) {
    const b = before ? toLeadDto(before) : null;
    const a = toLeadDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    await emit(tx, ctx, { type: `${ENTITY}.${EVENT[action] ?? action}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
  }

  async function createIn(tx: Executor, ctx: RequestContext, raw: unknown): Promise<LeadRead> {
    const row = await repo.insertLead(tx, await newValues(tx, ctx, raw));
    const after = await settled(tx, row.id);
    await written(tx, ctx, 'create', null, after);
    return after;
  }

  async function updateIn(
    tx: Executor, ctx: RequestContext, current: LeadRead, raw: unknown, expectedVersion?: number,
  ): Promise<{ row: LeadRead; changed: boolean }> {
    const scope = assertCan(ctx.actor, 'leads', 'write');
    const patch = await check(tx, parseInput(LeadPatch, raw), current);
    assertOwnershipAssignable(ctx.actor, patch);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('version_conflict', `The lead is at version ${current.version}, not ${expectedVersion}`, {
        extensions: { current: toLeadDto(current) },
      });
    }
    const { matchingContactId: _m, ...stored } = current;
    const changes = applyPatch(stored as unknown as Record<string, unknown>, patch, OBJECT_FIELDS) as Partial<LeadInsert>;
    if (Object.keys(changes).length === 0) return { row: current, changed: false };
    assertStaysInScope(ctx, scope, { ownerId: current.ownerId, teamId: current.teamId, ...changes } as LeadRead);
    const searchText = repo.leadSearchText({ ...current, ...changes });
    await repo.updateLead(tx, current.id, searchText !== current.searchText ? { ...changes, searchText } : changes);
    const after = await settled(tx, current.id);
    await written(tx, ctx, 'update', current, after);
    return { row: after, changed: true };
  }

  /** The live lead, locked; a lead out of the caller's scope does not exist for them (404). */
  async function lockLive(tx: Executor, ctx: RequestContext, id: string): Promise<LeadRead> {
    assertUuid(id);
    const scope = assertCan(ctx.actor, 'leads', 'write');
    const row = await repo.lockLead(tx, id);
    if (!row || row.deletedAt || !inScope(ctx.actor, scope, row)) throw notFound('Lead');
    return row;
  }

  async function removeIn(tx: Executor, ctx: RequestContext, id: string): Promise<LeadRead> {
    const current = await lockLive(tx, ctx, id);
    await repo.updateLead(tx, id, { deletedAt: new Date() });
    const after = (await repo.findLead(tx, id)) as LeadRead;
    await written(tx, ctx, 'delete', current, after);
    return after;
  }

  /** The record a batch update, delete or upsert addresses, locked, within the caller's scope; or undefined. */
  async function lockByKey(tx: Executor, ctx: RequestContext, idProperty: string, record: Record<string, unknown>): Promise<LeadRead | undefined> {
    const key = record[idProperty];
    if (typeof key !== 'string' || !key.trim()) throw validationFailed([{ path: idProperty, message: `is required to match by ${idProperty}` }]);
    const scope = assertCan(ctx.actor, 'leads', 'write');
    if (idProperty === 'id') {
      assertUuid(key);
      const row = await repo.lockLead(tx, key);
      return row && !row.deletedAt && inScope(ctx.actor, scope, row) ? row : undefined;
    }
    return repo.lockLeadByEmail(tx, key.trim().toLowerCase(), scopeCondition(ctx.actor, scope, repo.ownedColumns));
  }

  async function upsertIn(tx: Executor, ctx: RequestContext, idProperty: string, record: Record<string, unknown>) {
    const { id: _id, ...fields } = record;
    // lockByKey serialises upserts of one email (advisory lock), so no second lead is made meanwhile
    const existing = await lockByKey(tx, ctx, idProperty, record);
    if (existing) {
      const r = await updateIn(tx, ctx, existing, fields);
      return { id: r.row.id, status: (r.changed ? 'updated' : 'unchanged') as BatchStatus };
    }
    if (idProperty === 'id') throw notFound('Lead');
    return { id: (await createIn(tx, ctx, fields)).id, status: 'created' as BatchStatus };
  }

  async function withIncludes(items: LeadDto[], include: readonly string[] | undefined): Promise<LeadDto[]> {
    if (!include?.includes('owner')) return items;
    const owners = await deps.owners(items.map((c) => c.ownerId));
    return items.map((c) => ({ ...c, owner: c.ownerId ? (owners.get(c.ownerId) ?? null) : null }));
  }

  function readScope(ctx: RequestContext, includeDeleted: boolean | undefined) {
    const scope = assertCan(ctx.actor, 'leads', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return scopeCondition(ctx.actor, scope, repo.ownedColumns);
  }

  return {
    owners: deps.owners,
    /** for the conversion: the same lock and scope rules as every other lead write */
    lockLive,

    /** The conversion's last step: status converted and its links; audited, `lead.updated` and `lead.converted`. */
    async convertedIn(
      tx: Executor, ctx: RequestContext, current: LeadRead, links: { contactId: string; companyId: string | null; dealId: string | null },
    ): Promise<LeadRead> {
      await repo.updateLead(tx, current.id, {
        status: 'converted', convertedAt: new Date(),
        convertedContactId: links.contactId, convertedCompanyId: links.companyId, convertedDealId: links.dealId,
      });
      const after = (await repo.findLead(tx, current.id)) as LeadRead;
      await written(tx, ctx, 'update', current, after);
      await emit(tx, ctx, { type: 'lead.converted', entityType: ENTITY, entityId: after.id, before: toLeadDto(current), after: { lead: toLeadDto(after), ...links } });
      return after;
    },

    async create(ctx: RequestContext, input: unknown): Promise<LeadDto> {
      assertCan(ctx.actor, 'leads', 'write');
      return toLeadDto(await inTransaction(db, (tx) => createIn(tx, ctx, input)));
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean; include?: readonly string[] | undefined } = {}): Promise<LeadDto> {
      const scope = readScope(ctx, o.includeDeleted);
      assertUuid(id);
      const row = await repo.findLead(db, id, scope);
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Lead');
      return (await withIncludes([toLeadDto(row)], o.include))[0] as LeadDto;
    },

    /** Loads many by id for GraphQL loaders: one query, out-of-scope ids simply missing. */
    async getMany(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, LeadDto>> {
      const rows = await repo.findLeads(db, ids, readScope(ctx, false));
      return new Map(rows.map((r) => [r.id, toLeadDto(r)]));
    },

    async list(ctx: RequestContext, q: ParsedListQuery & { include?: readonly string[] | undefined }): Promise<Page<LeadDto>> {
      const scope = readScope(ctx, q.includeDeleted);
      const spec = await collection();
      const list = compileList(q.q ? rankedCollection(spec, leads.searchText, q.q) : spec, q);
      const rows = await repo.listLeads(db, list, {
        includeDeleted: q.includeDeleted ?? false,
        scope,
        search: q.q ? repo.leadSearch(q.q) : undefined,
        rank: q.q ? searchRank(leads.searchText, q.q) : undefined,
      });
      const page = toPage(list, rows, sortValues, toLeadDto);
      return { ...page, items: await withIncludes(page.items, q.include) };
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const scope = readScope(ctx, q.includeDeleted);
      return repo.countLeads(db, compileFilter(await collection(), q.filter), {
        includeDeleted: q.includeDeleted ?? false, scope, search: q.q ? repo.leadSearch(q.q) : undefined,
      });
    },

    async update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<LeadDto> {
      assertCan(ctx.actor, 'leads', 'write');
      const r = await inTransaction(db, async (tx) => updateIn(tx, ctx, await lockLive(tx, ctx, id), patch, expectedVersion));
      return toLeadDto(r.row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'leads', 'write');
      await inTransaction(db, (tx) => removeIn(tx, ctx, id));
    },

    async restore(ctx: RequestContext, id: string): Promise<LeadDto> {
      assertCan(ctx.actor, 'leads', 'write');
      assertManagerial(ctx.actor, 'restore records');
      assertUuid(id);
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockLead(tx, id);
        if (!current) throw notFound('Lead');
        if (!current.deletedAt) return current; // already live: restoring again changes nothing
        await repo.updateLead(tx, id, { deletedAt: null });
        const restored = await settled(tx, id);
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toLeadDto(row);
    },

    async batch(
      ctx: RequestContext,
      req: { operation: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string | undefined; records: unknown[]; atomic?: boolean | undefined },
    ): Promise<BatchResult[]> {
      assertCan(ctx.actor, 'leads', 'write');
      const idProperty = req.idProperty ?? 'id';
      if (idProperty !== 'id' && idProperty !== 'email') throw validationFailed([{ path: 'idProperty', message: 'must be id or email' }]);
      return inTransaction(db, (tx) =>
        runBatch(tx, req.records, req.atomic ?? false, ctx.requestId, (t, raw) =>
          applyBatchOperation(t, req.operation, idProperty, raw, {
            entity: 'Lead',
            create: (x, record) => createIn(x, ctx, record),
            upsert: (x, key, record) => upsertIn(x, ctx, key, record),
            lockByKey: (x, key, record) => lockByKey(x, ctx, key, record),
            update: (x, current, fields) => updateIn(x, ctx, current, fields),
            remove: (x, id) => removeIn(x, ctx, id),
          }),
        ),
      );
    },
  };
}

export type LeadService = ReturnType<typeof createLeadService>;
