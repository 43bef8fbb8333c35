import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial, scopeCondition } from '../../platform/auth/permissions.js';
import { notFound, validationFailed } from '../../platform/errors/app-error.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { type BatchResult, applyBatchOperation, runBatch } from '../../platform/http/batch.js';
import {
  type CompanyDto, type ContactDto, type CustomFieldLookup, type ValidateCustom, contactTable, rankedCollection, searchRank, toContactDto,
} from '../customer/index.js';
import { type DealDto, type DealRecord, type DealStageChangeDto, toDealDto, toStageChangeDto } from './deal.schema.js';
import * as repo from './deal.repository.js';
import { historyCollection, listStageChanges } from './deal-history.js';
import { contactsOfDeals, dealsOfParents, pipelinesWithStages, stagesByIds } from './deal-relations.js';
import { createDealWriter } from './deal-write.js';
import { type PipelineDto, type PipelineStageDto, toPipelineDto, toStageDto } from './pipeline.schema.js';

export interface DealServiceDeps {
  db: Executor;
  validateCustom: ValidateCustom;
  /** resolves `custom.<key>` in filters and sorts */
  customFields?: CustomFieldLookup;
  /** name and email of users by id (include=owner, Deal.owner) */
  owners: (ids: readonly (string | null)[]) => Promise<Map<string, { id: string; name: string; email: string }>>;
  /** companies by id, scoped to the caller (include=company, Deal.company): the customer module's getMany */
  companies: (ctx: RequestContext, ids: readonly string[]) => Promise<Map<string, CompanyDto>>;
}

/** Deals per contact or company in relations (Contact.deals, Company.deals): the newest this many. */
const DEALS_PER_PARENT = 100;

/** A row's sort values including `custom.<key>`, so cursors of custom-field sorts round-trip. */
function sortValues(row: DealRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const [k, v] of Object.entries(row.custom ?? {})) out[`custom.${k}`] = v;
  return out;
}

type BatchRequest = { operation: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string | undefined; records: unknown[]; atomic?: boolean | undefined };

export function createDealService(deps: DealServiceDeps) {
  const { db } = deps;
  const writer = createDealWriter({ validateCustom: deps.validateCustom });
  const collection = async () =>
    deps.customFields ? { ...repo.dealCollection, dynamicField: await deps.customFields('deal', repo.dealCustomColumn) } : repo.dealCollection;
  /** The caller's read scope as SQL; 403 for a role without access (support). */
  const readScope = (ctx: RequestContext) => scopeCondition(ctx.actor, assertCan(ctx.actor, 'deals', 'read'), repo.ownedColumns);
  const contactScope = (ctx: RequestContext) =>
    scopeCondition(ctx.actor, assertCan(ctx.actor, 'customers', 'read'), { ownerId: contactTable.ownerId, teamId: contactTable.teamId });

  /** Embeds the requested relations: one query per relation, whatever the page size. */
  async function withIncludes(ctx: RequestContext, items: DealDto[], include: readonly string[] | undefined): Promise<DealDto[]> {
    if (!include?.length || items.length === 0) return items;
    const [owners, firms, people] = await Promise.all([
      include.includes('owner') ? deps.owners(items.map((d) => d.ownerId)) : undefined,
      include.includes('company') ? deps.companies(ctx, [...new Set(items.map((d) => d.companyId).filter((id): id is string => !!id))]) : undefined,
      include.includes('contacts') ? contactsOf(ctx, items.map((d) => d.id)) : undefined,
    ]);
    return items.map((d) => ({
      ...d,
      ...(owners ? { owner: d.ownerId ? (owners.get(d.ownerId) ?? null) : null } : {}),
      ...(firms ? { company: d.companyId ? (firms.get(d.companyId) ?? null) : null } : {}),
      ...(people ? { contacts: people.get(d.id) ?? [] } : {}),
    }));
  }

  async function contactsOf(ctx: RequestContext, dealIds: readonly string[]): Promise<Map<string, ContactDto[]>> {
    const rows = await contactsOfDeals(db, dealIds, contactScope(ctx));
    return new Map([...rows].map(([id, list]) => [id, list.map(toContactDto)]));
  }

  async function ofParents(ctx: RequestContext, by: 'contact' | 'company', ids: readonly string[], perParent: number, onlyOpen = false) {
    const out = new Map<string, DealDto[]>();
    for (const r of await dealsOfParents(db, by, ids, perParent, readScope(ctx), onlyOpen)) {
      out.set(r.parentId, [...(out.get(r.parentId) ?? []), toDealDto(r.deal)]);
    }
    return out;
  }

  /** For batch update and delete: the deal a record addresses (unlocked: the write locks in its own order). */
  async function findByKey(tx: Executor, ctx: RequestContext, idProperty: string, record: Record<string, unknown>): Promise<DealRecord | undefined> {
    const key = record[idProperty];
    if (typeof key !== 'string' || !z.uuid().safeParse(key).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
    const row = await repo.findDeal(tx, key.toLowerCase(), scopeCondition(ctx.actor, assertCan(ctx.actor, 'deals', 'write'), repo.ownedColumns));
    return row && !row.deletedAt ? row : undefined;
  }

  return {
    owners: deps.owners,
    companies: deps.companies,
    contactsOf,

    /** Inside another part's transaction (lead conversion): same checks, audit and events as a create. */
    async createIn(tx: Executor, ctx: RequestContext, raw: unknown, o: { leadId?: string } = {}): Promise<DealDto> {
      assertCan(ctx.actor, 'deals', 'write');
      return toDealDto(await writer.createIn(tx, ctx, raw, o));
    },

    async create(ctx: RequestContext, input: unknown): Promise<DealDto> {
      assertCan(ctx.actor, 'deals', 'write');
      return toDealDto(await inTransaction(db, (tx) => writer.createIn(tx, ctx, input)));
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean; include?: readonly string[] | undefined } = {}): Promise<DealDto> {
      const scope = readScope(ctx);
      if (o.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const row = await repo.findDeal(db, id, scope);
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Deal');
      return (await withIncludes(ctx, [toDealDto(row)], o.include))[0] as DealDto;
    },

    /** Many by id for loaders: one query, out-of-scope ids simply missing. */
    async getMany(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, DealDto>> {
      const rows = await repo.findDeals(db, ids, readScope(ctx));
      return new Map(rows.map((r) => [r.id, toDealDto(r)]));
    },

    async list(ctx: RequestContext, q: ParsedListQuery & { include?: readonly string[] | undefined }): Promise<Page<DealDto>> {
      const scope = readScope(ctx);
      if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const spec = await collection();
      const list = compileList(q.q ? rankedCollection(spec, repo.dealSearchColumn, q.q) : spec, q);
      const rows = await repo.listDeals(db, list, {
        includeDeleted: q.includeDeleted ?? false,
        scope,
        search: q.q ? repo.dealSearch(q.q) : undefined,
        rank: q.q ? searchRank(repo.dealSearchColumn, q.q) : undefined,
      });
      const page = toPage(list, rows, sortValues, toDealDto);
      return { ...page, items: await withIncludes(ctx, page.items, q.include) };
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const scope = readScope(ctx);
      if (q.includeDeleted) assertManagerial(ctx.actor, 'count deleted records');
      return repo.countDeals(db, compileFilter(await collection(), q.filter), {
        includeDeleted: q.includeDeleted ?? false, scope, search: q.q ? repo.dealSearch(q.q) : undefined,
      });
    },

    /** Stage changes of a visible deal, newest first. */
    async history(ctx: RequestContext, id: string, q: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<DealStageChangeDto>> {
      const row = await repo.findDeal(db, id, readScope(ctx));
      if (!row || row.deletedAt) throw notFound('Deal');
      const list = compileList(historyCollection, { limit: q.limit, cursor: q.cursor });
      return toPage(list, await listStageChanges(db, id, list), (r) => ({ ...r }), toStageChangeDto);
    },

    async update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<DealDto> {
      assertCan(ctx.actor, 'deals', 'write');
      return toDealDto((await inTransaction(db, (tx) => writer.updateIn(tx, ctx, id, patch, expectedVersion))).row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'deals', 'write');
      await inTransaction(db, (tx) => writer.removeIn(tx, ctx, id));
    },

    async restore(ctx: RequestContext, id: string): Promise<DealDto> {
      assertCan(ctx.actor, 'deals', 'write');
      assertManagerial(ctx.actor, 'restore records');
      return toDealDto(await inTransaction(db, (tx) => writer.restoreIn(tx, ctx, id)));
    },

    /** create | update | delete by id (upsert by id updates the deal or fails 404: ids are never chosen by clients). */
    async batch(ctx: RequestContext, req: BatchRequest): Promise<BatchResult[]> {
      assertCan(ctx.actor, 'deals', 'write');
      const idProperty = req.idProperty ?? 'id';
      return inTransaction(db, (tx) =>
        runBatch(tx, req.records, req.atomic ?? false, ctx.requestId, (t, raw) =>
          applyBatchOperation(t, req.operation, idProperty, raw, {
            entity: 'Deal',
            create: (x, record) => writer.createIn(x, ctx, record),
            upsert: async (x, key, record) => {
              const existing = await findByKey(x, ctx, key, record);
              if (!existing) throw notFound('Deal');
              const { id: _id, ...fields } = record;
              const r = await writer.updateIn(x, ctx, existing.id, fields);
              return { id: existing.id, status: r.changed ? 'updated' : 'unchanged' };
            },
            lockByKey: (x, key, record) => findByKey(x, ctx, key, record),
            update: (x, current, fields) => writer.updateIn(x, ctx, current.id, fields),
            remove: (x, id) => writer.removeIn(x, ctx, id),
          }),
        ),
      );
    },

    /** Open deals of a contact, scoped (the 360 view): one query. */
    async openDealsOfContact(ctx: RequestContext, contactId: string, limit: number): Promise<DealDto[]> {
      return (await ofParents(ctx, 'contact', [contactId], limit, true)).get(contactId) ?? [];
    },

    /** Live deals of each contact (Contact.deals), scoped: one query. */
    ofContacts: (ctx: RequestContext, contactIds: readonly string[]) => ofParents(ctx, 'contact', contactIds, DEALS_PER_PARENT),

    /** Live deals of each company (Company.deals), scoped: one query. */
    ofCompanies: (ctx: RequestContext, companyIds: readonly string[]) => ofParents(ctx, 'company', companyIds, DEALS_PER_PARENT),

    /** Deal.pipeline: pipelines with their live stages, one query. Deals name only pipelines the caller may read (config: everyone). */
    async pipelines(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, PipelineDto>> {
      assertCan(ctx.actor, 'config', 'read');
      const rows = await pipelinesWithStages(db, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.pipeline.id, toPipelineDto(r.pipeline, r.stages)]));
    },

    /** Deal.stage: stages by id, removed ones too (history may name them), one query. */
    async stages(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, PipelineStageDto>> {
      assertCan(ctx.actor, 'config', 'read');
      const rows = await stagesByIds(db, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, toStageDto(r)]));
    },
  };
}

export type DealService = ReturnType<typeof createDealService>;
