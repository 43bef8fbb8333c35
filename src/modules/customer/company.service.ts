import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { newId } from '../../platform/db/columns.js';
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
import { fitsCurrency } from '../../platform/http/money.js';
import { normalisePhones } from '../../platform/http/phone.js';
import { type BatchResult, type BatchStatus, applyBatchOperation, batchIdProperty, runBatch } from '../../platform/http/batch.js';
import {
  CompanyCreate, type CompanyCreateInput, type CompanyDto, CompanyIdProperty, CompanyPatch, type CompanyPatchInput, toCompanyDto,
} from './company.schema.js';
import { type CompanyInsert, type CompanyRow, companies } from './company.table.js';
import * as repo from './company.repository.js';
import { companyNameKey, refreshCompanyCandidates } from './duplicate.repository.js';
import { mergedConflict, mergedInto } from './merge.schema.js';
import { rankedCollection, searchRank } from './search.js';
import { claimExternalId, findByExternalId, sameExternalIds, syncExternalIds } from '../../platform/db/external-ids.js';
import { type CustomFieldLookup, type ValidateCustom, withCustomSortValues } from './custom-values.js';

export interface CompanyServiceDeps {
  db: Executor;
  defaultPhoneRegion: string;
  /** checks and normalises `custom` against the custom-field definitions; the default knows none, so any key is refused */
  validateCustom?: ValidateCustom;
  /** resolves `custom.<key>` in filters and sorts; without it no custom field is filterable */
  customFields?: CustomFieldLookup;
  /** name and email of users by id, for `include=owner` (the identity module's summaries) */
  owners: (ids: readonly (string | null)[]) => Promise<Map<string, { id: string; name: string; email: string }>>;
}

const ENTITY = 'company';
const EXTERNAL = 'externalId.';
/** the system of an `externalId.<system>` id property, else undefined */
const systemOf = (idProperty: string) => (idProperty.startsWith(EXTERNAL) ? idProperty.slice(EXTERNAL.length) : undefined);
const OBJECT_FIELDS = ['address', 'externalIds', 'custom'] as const;

const refuseAllCustom: ValidateCustom = async (_, custom) => ({
  errors: Object.keys(custom).map((k) => ({ path: `custom.${k}`, message: 'is not a defined custom field' })),
  values: {},
});


export function createCompanyService(deps: CompanyServiceDeps) {
  const { db } = deps;
  const validateCustom = deps.validateCustom ?? refuseAllCustom;
  /** the collection with this moment's custom fields (`custom.<key>`) filterable and sortable */
  const collection = async () =>
    deps.customFields
      ? { ...repo.companyCollection, dynamicField: await deps.customFields(ENTITY, repo.companyCustomColumn) }
      : repo.companyCollection;

  /** Checks what zod cannot: phone, money precision, custom values. Returns the normalised input. */
  async function check<T extends CompanyPatchInput>(tx: Executor, input: T, current?: CompanyRow): Promise<T> {
    const errors: FieldError[] = [];
    const out = normalisePhones(input, ['phone'], deps.defaultPhoneRegion, errors);
    // Money and its currency are checked together whichever of the two the write changes.
    const currency = input.currency !== undefined ? input.currency : current?.currency ?? null;
    const revenue = input.annualRevenue !== undefined ? input.annualRevenue : current?.annualRevenue ?? null;
    if (input.currency !== undefined || input.annualRevenue !== undefined) {
      if (revenue !== null && currency === null) {
        errors.push({ path: 'currency', message: 'is required with annualRevenue' });
      } else if (revenue !== null && currency !== null && !fitsCurrency(revenue, currency)) {
        errors.push(input.annualRevenue !== undefined
          ? { path: 'annualRevenue', message: `has more decimals than ${currency} allows` }
          : { path: 'currency', message: `allows fewer decimals than the annualRevenue ${revenue}` });
      }
    }
    // Runs on create even without `custom`: required custom fields must then be reported missing.
    // through the write's transaction: PGlite has one connection, which the transaction holds
    const custom = await validateCustom(ENTITY, input.custom ?? {}, current ? 'patch' : 'create', tx);
    errors.push(...custom.errors);
    if (errors.length) throw validationFailed(errors);
    return input.custom !== undefined || !current ? { ...out, custom: custom.values } : out;
  }

  /** Parsed, checked values of a new company with its defaults (owner the caller, team the caller's first). */
  async function newValues(tx: Executor, ctx: RequestContext, raw: unknown): Promise<CompanyInsert> {
    const input = await check(tx, parseInput(CompanyCreate, raw) as CompanyCreateInput);
    assertOwnershipAssignable(ctx.actor, input);
    return {
      ...input,
      ownerId: input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null,
      teamId: input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null,
    };
  }

  async function createIn(tx: Executor, ctx: RequestContext, raw: unknown): Promise<CompanyRow> {
    const row = await repo.insertCompany(tx, await newValues(tx, ctx, raw));
    await written(tx, ctx, 'create', null, row);
    return row;
  }

  async function updateIn(
    tx: Executor, ctx: RequestContext, current: CompanyRow, raw: unknown, expectedVersion?: number,
  ): Promise<{ row: CompanyRow; changed: boolean }> {
    const patch = await check(tx, parseInput(CompanyPatch, raw), current);
    assertOwnershipAssignable(ctx.actor, patch);
    assertWritable(ctx, current);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('version_conflict', `The company is at version ${current.version}, not ${expectedVersion}`, {
        extensions: { current: toCompanyDto(current) },
      });
    }
    const changes = applyPatch(current as unknown as Record<string, unknown>, patch, OBJECT_FIELDS);
    if (Object.keys(changes).length === 0) return { row: current, changed: false };
    const searchText = repo.companySearchText({ ...current, ...changes });
    const nameKey = companyNameKey({ ...current, ...changes });
    const row = await repo.updateCompany(tx, current.id, {
      ...changes, ...(searchText !== current.searchText ? { searchText } : {}), ...(nameKey !== current.nameKey ? { nameKey } : {}),
    });
    await written(tx, ctx, 'update', current, row);
    return { row, changed: true };
  }

  function assertWritable(ctx: RequestContext, row: CompanyRow): void {
    const scope = assertCan(ctx.actor, 'customers', 'write');
    if (!inScope(ctx.actor, scope, row)) {
      throw new AppError('forbidden', 'Your role may change only companies of yours, your teams or nobody');
    }
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: CompanyRow | null, after: CompanyRow) {
    // external ids of live companies are unique per system: the side table's key says so (409 if taken)
    const idsBefore = before && !before.deletedAt ? before.externalIds : {};
    const idsAfter = after.deletedAt ? {} : after.externalIds;
    if (!sameExternalIds(idsBefore, idsAfter)) await syncExternalIds(tx, ENTITY, after.id, idsAfter);
    const b = before ? toCompanyDto(before) : null;
    const a = toCompanyDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
    await refreshCompanyCandidates(tx, after, before);
  }

  async function lockLive(tx: Executor, id: string): Promise<CompanyRow> {
    const row = await repo.lockCompany(tx, id);
    if (!row || row.deletedAt) throw notFound('Company', mergedInto(row));
    return row;
  }

  async function removeIn(tx: Executor, ctx: RequestContext, id: string): Promise<CompanyRow> {
    const current = await lockLive(tx, id);
    assertWritable(ctx, current);
    const row = await repo.updateCompany(tx, id, { deletedAt: new Date() });
    await written(tx, ctx, 'delete', current, row);
    return row;
  }

  /** The value a record is matched by: `id`, `domain` or `externalIds.<system>` of the record. */
  function keyOf(idProperty: string, record: Record<string, unknown>): string {
    const system = systemOf(idProperty);
    const ids = record.externalIds as Record<string, unknown> | undefined;
    const key = system ? (ids && typeof ids === 'object' ? ids[system] : undefined) : record[idProperty];
    const path = system ? `externalIds.${system}` : idProperty;
    if (typeof key !== 'string' || !key.trim()) throw validationFailed([{ path, message: `is required to match by ${idProperty}` }]);
    if (idProperty === 'id' && !z.uuid().safeParse(key).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
    return idProperty === 'domain' ? key.trim().toLowerCase() : key.trim();
  }

  /** Finds the live record an upsert, update or delete addresses, locked, or undefined. */
  async function lockByKey(tx: Executor, idProperty: string, record: Record<string, unknown>): Promise<CompanyRow | undefined> {
    const key = keyOf(idProperty, record);
    if (idProperty === 'domain') return repo.lockCompanyByDomain(tx, key);
    const system = systemOf(idProperty);
    const id = system ? await findByExternalId(tx, ENTITY, system, key) : key;
    const row = id ? await repo.lockCompany(tx, id) : undefined;
    return row && !row.deletedAt ? row : undefined;
  }

  /**
   * INSERT … ON CONFLICT is the arbiter, never a lookup alone: by domain the partial unique index, by
   * external id the claim in external_ids. The loser of a race matches the winner's record next round.
   */
  async function upsertIn(tx: Executor, ctx: RequestContext, idProperty: string, record: Record<string, unknown>) {
    const { id: _id, ...fields } = record;
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await lockByKey(tx, idProperty, record);
      if (existing) {
        const r = await updateIn(tx, ctx, existing, fields);
        return { id: r.row.id, status: (r.changed ? 'updated' : 'unchanged') as BatchStatus };
      }
      if (idProperty === 'id') throw notFound('Company');
      const values = { ...(await newValues(tx, ctx, fields)), id: newId() };
      const system = systemOf(idProperty);
      let row: CompanyRow | undefined;
      if (!system) row = await repo.insertCompanyUnlessDomainTaken(tx, values);
      else if ((await claimExternalId(tx, ENTITY, system, keyOf(idProperty, record), values.id)) === values.id) row = await repo.insertCompany(tx, values);
      if (row) {
        await written(tx, ctx, 'create', null, row);
        return { id: row.id, status: 'created' as BatchStatus };
      }
    }
    throw new AppError('conflict', 'The record kept changing while being upserted; retry');
  }

  /** The live company with this record's domain (left as it is), else a new one; without a domain it always creates. */
  async function reuseOrCreateIn(tx: Executor, ctx: RequestContext, record: Record<string, unknown>): Promise<{ row: CompanyRow; created: boolean }> {
    if (typeof record.domain !== 'string' || !record.domain.trim()) return { row: await createIn(tx, ctx, record), created: true };
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await lockByKey(tx, 'domain', record);
      if (existing) return { row: existing, created: false };
      const row = await repo.insertCompanyUnlessDomainTaken(tx, await newValues(tx, ctx, record));
      if (row) {
        await written(tx, ctx, 'create', null, row);
        return { row, created: true };
      }
    }
    throw new AppError('conflict', 'The company kept changing while being matched by domain; retry');
  }

  /** Embeds the requested relations: one query per relation, whatever the page size. */
  async function withIncludes(items: CompanyDto[], include: readonly string[] | undefined): Promise<CompanyDto[]> {
    if (!include?.includes('owner')) return items;
    const owners = await deps.owners(items.map((c) => c.ownerId));
    return items.map((c) => ({ ...c, owner: c.ownerId ? (owners.get(c.ownerId) ?? null) : null }));
  }

  return {
    owners: deps.owners,

    /** For other modules' transactions (lead conversion): reuse by domain or create; DTO and whether it was new. */
    async reuseOrCreateIn(tx: Executor, ctx: RequestContext, record: Record<string, unknown>): Promise<{ company: CompanyDto; created: boolean }> {
      assertCan(ctx.actor, 'customers', 'write');
      const r = await reuseOrCreateIn(tx, ctx, record);
      return { company: toCompanyDto(r.row), created: r.created };
    },

    async create(ctx: RequestContext, input: unknown): Promise<CompanyDto> {
      assertCan(ctx.actor, 'customers', 'write');
      return toCompanyDto(await inTransaction(db, (tx) => createIn(tx, ctx, input)));
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean; include?: readonly string[] | undefined } = {}): Promise<CompanyDto> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      if (o.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const row = await repo.findCompany(db, id, scopeCondition(ctx.actor, scope, repo.ownedColumns));
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Company', mergedInto(row));
      return (await withIncludes([toCompanyDto(row)], o.include))[0] as CompanyDto;
    },

    /** Loads many by id for GraphQL loaders: one query, out-of-scope ids simply missing. */
    async getMany(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, CompanyDto>> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      const rows = await repo.findCompanies(db, ids, scopeCondition(ctx.actor, scope, repo.ownedColumns));
      return new Map(rows.map((r) => [r.id, toCompanyDto(r)]));
    },

    async list(ctx: RequestContext, q: ParsedListQuery & { include?: readonly string[] | undefined }): Promise<Page<CompanyDto>> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const spec = await collection();
      const list = compileList(q.q ? rankedCollection(spec, companies.searchText, q.q) : spec, q);
      const rows = await repo.listCompanies(db, list, {
        includeDeleted: q.includeDeleted ?? false,
        scope: scopeCondition(ctx.actor, scope, repo.ownedColumns),
        search: q.q ? repo.companySearch(q.q) : undefined,
        rank: q.q ? searchRank(companies.searchText, q.q) : undefined,
      });
      const page = toPage(list, rows, withCustomSortValues, toCompanyDto);
      return { ...page, items: await withIncludes(page.items, q.include) };
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'count deleted records');
      return repo.countCompanies(db, compileFilter(await collection(), q.filter), {
        includeDeleted: q.includeDeleted ?? false,
        scope: scopeCondition(ctx.actor, scope, repo.ownedColumns),
        search: q.q ? repo.companySearch(q.q) : undefined,
      });
    },

    async update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<CompanyDto> {
      assertCan(ctx.actor, 'customers', 'write');
      const r = await inTransaction(db, async (tx) => updateIn(tx, ctx, await lockLive(tx, id), patch, expectedVersion));
      return toCompanyDto(r.row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'customers', 'write');
      await inTransaction(db, (tx) => removeIn(tx, ctx, id));
    },

    async restore(ctx: RequestContext, id: string): Promise<CompanyDto> {
      assertCan(ctx.actor, 'customers', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockCompany(tx, id);
        if (!current) throw notFound('Company');
        if (!current.deletedAt) return current; // already live: restoring again changes nothing
        if (current.mergedIntoId) throw mergedConflict('company', current.mergedIntoId);
        const restored = await repo.updateCompany(tx, id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toCompanyDto(row);
    },

    async batch(
      ctx: RequestContext,
      req: { operation: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string | undefined; records: unknown[]; atomic?: boolean | undefined },
    ): Promise<BatchResult[]> {
      assertCan(ctx.actor, 'customers', 'write');
      const idProperty = batchIdProperty(CompanyIdProperty, req.idProperty);
      return inTransaction(db, (tx) =>
        runBatch(tx, req.records, req.atomic ?? false, ctx.requestId, (t, raw) =>
          applyBatchOperation(t, req.operation, idProperty, raw, {
            entity: 'Company',
            create: (x, record) => createIn(x, ctx, record),
            upsert: (x, key, record) => upsertIn(x, ctx, key, record),
            lockByKey,
            update: (x, current, fields) => updateIn(x, ctx, current, fields),
            remove: (x, id) => removeIn(x, ctx, id),
          }),
        ),
      );
    },
  };
}

export type CompanyService = ReturnType<typeof createCompanyService>;
