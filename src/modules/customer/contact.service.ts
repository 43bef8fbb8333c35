import { type SQL, and } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { newId } from '../../platform/db/columns.js';
import { claimExternalId, sameExternalIds, syncExternalIds } from '../../platform/db/external-ids.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import {
  assertCan, assertManagerial, assertOwnershipAssignable, inScope, scopeCondition,
} from '../../platform/auth/permissions.js';
import { AppError, notFound } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import { type BatchResult, type BatchStatus, applyBatchOperation } from '../../platform/http/batch.js';
import {
  ContactCreate, type ContactDto, ContactPatch, type ContactPatchInput, toContactDto,
} from './contact.schema.js';
import { type ContactInsert, type ContactRow, contacts } from './contact.table.js';
import type { CompanyDto } from './company.schema.js';
import { rankedCollection, searchTextOf } from './search.js';
import * as repo from './contact.repository.js';
import { checkContact, checkContactFields } from './contact-checks.js';
import { type ContactBatchRequest, contactBatchCalls, contactKeyOf, lockContactByKey } from './contact-batch.js';
import { contactNameKey } from './duplicate.repository.js';
import { queueContactRefreshOf } from './duplicate-queue.js';
import { mergedConflict, mergedInto } from './merge.schema.js';
import { type CustomFieldLookup, type ValidateCustom, withCustomSortValues } from './custom-values.js';

export interface ContactServiceDeps {
  db: Executor;
  defaultPhoneRegion: string;
  /** checks and normalises `custom` against the custom-field definitions; the default knows none, so any key is refused */
  validateCustom?: ValidateCustom;
  /** resolves `custom.<key>` in filters and sorts; without it no custom field is filterable */
  customFields?: CustomFieldLookup;
  /** name and email of users by id, for `include=owner` (the identity module's summaries) */
  owners: (ids: readonly (string | null)[]) => Promise<Map<string, { id: string; name: string; email: string }>>;
  /** companies by id, scoped to the caller, for `include=company` (one query) */
  companies: (ctx: RequestContext, ids: readonly string[]) => Promise<Map<string, CompanyDto>>;
}

const ENTITY = 'contact';
const OBJECT_FIELDS = ['address', 'externalIds', 'custom'] as const;
/** Company.contacts lists at most this many per company (newest first). */
export const CONTACTS_PER_COMPANY = 100;

const refuseAllCustom: ValidateCustom = async (_, custom) => ({
  errors: Object.keys(custom).map((k) => ({ path: `custom.${k}`, message: 'is not a defined custom field' })),
  values: {},
});


type Values = Partial<Pick<ContactRow, 'firstName' | 'lastName' | 'email' | 'phone' | 'additionalEmails' | 'additionalPhones'>>;
const searchText = (v: Values) =>
  searchTextOf([v.firstName, v.lastName, v.email, v.additionalEmails ?? [], v.phone, v.additionalPhones ?? []]);
/** search_text of a contact, for the merge, which writes the surviving contact itself */
export const contactSearchText = searchText;

/**
 * Consent records need when each opt-in was last decided, whichever door the write came through
 * (REST, GraphQL, batch, upsert, unsubscribe links). Given a create's input or an update's changes:
 * a flag present there was decided now.
 */
const consentTimes = (v: { emailOptIn?: boolean | undefined; smsOptIn?: boolean | undefined }, at = new Date()) => ({
  ...(v.emailOptIn !== undefined ? { emailOptInAt: at } : {}),
  ...(v.smsOptIn !== undefined ? { smsOptInAt: at } : {}),
});

export function createContactService(deps: ContactServiceDeps) {
  const { db } = deps;
  const validateCustom = deps.validateCustom ?? refuseAllCustom;
  /** the collection with this moment's custom fields (`custom.<key>`) filterable and sortable */
  const collection = async (executor?: Executor) =>
    deps.customFields
      ? { ...repo.contactCollection, dynamicField: await deps.customFields(ENTITY, repo.contactCustomColumn, executor) }
      : repo.contactCollection;

  const check = <T extends ContactPatchInput>(tx: Executor, input: T, current?: ContactRow) =>
    checkContact(tx, input, current, { defaultPhoneRegion: deps.defaultPhoneRegion, validateCustom });

  /** Parsed, checked values of a new contact with its defaults (owner the caller, team the caller's first). */
  async function newValues(tx: Executor, ctx: RequestContext, raw: unknown): Promise<ContactInsert> {
    return valuesOfNew(ctx, await check(tx, parseInput(ContactCreate, raw)));
  }

  /** A checked create input → the row to insert (defaults, consent times, search columns). */
  function valuesOfNew(ctx: RequestContext, input: ContactPatchInput): ContactInsert {
    assertOwnershipAssignable(ctx.actor, input);
    return {
      ...(input as ContactInsert),
      ...consentTimes(input),
      ownerId: input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null,
      teamId: input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null,
      searchText: searchText(input),
      nameKey: contactNameKey(input),
    };
  }

  /** A checked patch of a locked contact → the columns it changes (none: unchanged), refusing what the caller may not do. */
  function changesOf(ctx: RequestContext, current: ContactRow, patch: ContactPatchInput, expectedVersion?: number): Partial<ContactInsert> {
    assertOwnershipAssignable(ctx.actor, patch);
    assertWritable(ctx, current);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('version_conflict', `The contact is at version ${current.version}, not ${expectedVersion}`, {
        extensions: { current: toContactDto(current) },
      });
    }
    const changes = applyPatch(current as unknown as Record<string, unknown>, patch, OBJECT_FIELDS) as Partial<ContactInsert>;
    if (Object.keys(changes).length === 0) return changes;
    Object.assign(changes, consentTimes(changes));
    const text = searchText({ ...current, ...changes });
    if (text !== current.searchText) changes.searchText = text;
    const nameKey = contactNameKey({ ...current, ...changes });
    if (nameKey !== current.nameKey) changes.nameKey = nameKey;
    return changes;
  }

  async function createIn(tx: Executor, ctx: RequestContext, raw: unknown): Promise<ContactRow> {
    const row = await repo.insertContact(tx, await newValues(tx, ctx, raw));
    await written(tx, ctx, 'create', null, row);
    return row;
  }

  async function updateIn(
    tx: Executor, ctx: RequestContext, current: ContactRow, raw: unknown, expectedVersion?: number,
  ): Promise<{ row: ContactRow; changed: boolean }> {
    const changes = changesOf(ctx, current, await check(tx, parseInput(ContactPatch, raw), current), expectedVersion);
    if (Object.keys(changes).length === 0) return { row: current, changed: false };
    const row = await repo.updateContact(tx, current.id, changes);
    await written(tx, ctx, 'update', current, row);
    return { row, changed: true };
  }

  function assertWritable(ctx: RequestContext, row: ContactRow): void {
    const scope = assertCan(ctx.actor, 'customers', 'write');
    if (!inScope(ctx.actor, scope, row)) {
      throw new AppError('forbidden', 'Your role may change only contacts of yours, your teams or nobody');
    }
  }

  /** Every write ends here: external ids kept in their side table, then audit and change event. */
  async function written(tx: Executor, ctx: RequestContext, action: string, before: ContactRow | null, after: ContactRow) {
    const idsBefore = before && !before.deletedAt ? before.externalIds : {};
    const idsAfter = after.deletedAt ? {} : after.externalIds;
    if (!sameExternalIds(idsBefore, idsAfter)) await syncExternalIds(tx, ENTITY, after.id, idsAfter);
    const b = before ? toContactDto(before) : null;
    const a = toContactDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
    await queueContactRefreshOf(tx, after, before);
  }

  async function lockLive(tx: Executor, id: string): Promise<ContactRow> {
    const row = await repo.lockContact(tx, id);
    if (!row || row.deletedAt) throw notFound('Contact', mergedInto(row));
    return row;
  }

  async function removeIn(tx: Executor, ctx: RequestContext, id: string): Promise<ContactRow> {
    const current = await lockLive(tx, id);
    assertWritable(ctx, current);
    const row = await repo.updateContact(tx, id, { deletedAt: new Date() });
    await written(tx, ctx, 'delete', current, row);
    return row;
  }

  /**
   * INSERT … ON CONFLICT is the arbiter, never a lookup alone: by email the partial unique index, by
   * external id the claim in external_ids. The loser of a race matches the winner's record next round.
   */
  async function upsertIn(tx: Executor, ctx: RequestContext, idProperty: string, record: Record<string, unknown>) {
    const { id: _id, ...fields } = record;
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await lockContactByKey(tx, idProperty, record);
      if (existing) {
        const r = await updateIn(tx, ctx, existing, fields);
        return { id: r.row.id, status: (r.changed ? 'updated' : 'unchanged') as BatchStatus };
      }
      if (idProperty === 'id') throw notFound('Contact');
      const values = { ...(await newValues(tx, ctx, fields)), id: newId() };
      let row: ContactRow | undefined;
      if (idProperty === 'email') {
        row = await repo.insertContactUnlessEmailTaken(tx, values);
      } else if ((await claimExternalId(tx, ENTITY, idProperty.slice('externalId.'.length), contactKeyOf(idProperty, record), values.id)) === values.id) {
        row = await repo.insertContact(tx, values);
      }
      if (row) {
        await written(tx, ctx, 'create', null, row);
        return { id: row.id, status: 'created' as BatchStatus };
      }
    }
    throw new AppError('conflict', 'The record kept changing while being upserted; retry');
  }

  /**
   * The contact with this record's email if a live one exists (left as it is), else a new one from the
   * record — what a lead conversion wants. Without an email it always creates. Safe under concurrency
   * like upsertIn: the partial unique index decides, and the loser reuses the winner's contact.
   */
  async function reuseOrCreateIn(tx: Executor, ctx: RequestContext, record: Record<string, unknown>): Promise<{ row: ContactRow; created: boolean }> {
    if (typeof record.email !== 'string' || !record.email.trim()) return { row: await createIn(tx, ctx, record), created: true };
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await lockContactByKey(tx, 'email', record);
      if (existing) return { row: existing, created: false };
      const row = await repo.insertContactUnlessEmailTaken(tx, { ...(await newValues(tx, ctx, record)), id: newId() });
      if (row) {
        await written(tx, ctx, 'create', null, row);
        return { row, created: true };
      }
    }
    throw new AppError('conflict', 'The contact kept changing while being matched by email; retry');
  }

  /** Embeds the requested relations: one query per relation, whatever the page size. */
  async function withIncludes(ctx: RequestContext, items: ContactDto[], include: readonly string[] | undefined): Promise<ContactDto[]> {
    if (!include?.length) return items;
    const [owners, firms] = await Promise.all([
      include.includes('owner') ? deps.owners(items.map((c) => c.ownerId)) : undefined,
      include.includes('company')
        ? deps.companies(ctx, [...new Set(items.map((c) => c.companyId).filter((id): id is string => !!id))])
        : undefined,
    ]);
    return items.map((c) => ({
      ...c,
      ...(owners ? { owner: c.ownerId ? (owners.get(c.ownerId) ?? null) : null } : {}),
      ...(firms ? { company: c.companyId ? (firms.get(c.companyId) ?? null) : null } : {}),
    }));
  }

  function listOptions(ctx: RequestContext, q: ParsedListQuery) {
    const scope = assertCan(ctx.actor, 'customers', 'read');
    if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return { includeDeleted: q.includeDeleted ?? false, scope: scopeCondition(ctx.actor, scope, repo.ownedColumns), q: q.q };
  }

  const batches = contactBatchCalls(db, {
    valuesOfNew, changesOf: (c, current, patch) => changesOf(c, current, patch),
    checkFields: (x, input, current) => checkContactFields(x, input, current, { defaultPhoneRegion: deps.defaultPhoneRegion, validateCustom }),
    perRecord: (ctx, operation, idProperty) => (t, raw) =>
      applyBatchOperation(t, operation, idProperty, raw, {
        entity: 'Contact',
        create: (x, record) => createIn(x, ctx, record),
        upsert: (x, key, record) => upsertIn(x, ctx, key, record),
        lockByKey: lockContactByKey,
        update: (x, current, fields) => updateIn(x, ctx, current, fields),
        remove: (x, id) => removeIn(x, ctx, id),
      }),
  });

  return {
    owners: deps.owners,

    assertBatchRoom: () => batches.assertRoom(),

    /** For other modules' transactions (lead conversion): reuse by email or create; DTO and whether it was new. */
    async reuseOrCreateIn(tx: Executor, ctx: RequestContext, record: Record<string, unknown>): Promise<{ contact: ContactDto; created: boolean }> {
      assertCan(ctx.actor, 'customers', 'write');
      const r = await reuseOrCreateIn(tx, ctx, record);
      return { contact: toContactDto(r.row), created: r.created };
    },

    async create(ctx: RequestContext, input: unknown): Promise<ContactDto> {
      assertCan(ctx.actor, 'customers', 'write');
      return toContactDto(await inTransaction(db, (tx) => createIn(tx, ctx, input)));
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean; include?: readonly string[] | undefined } = {}): Promise<ContactDto> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      if (o.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const row = await repo.findContact(db, id, scopeCondition(ctx.actor, scope, repo.ownedColumns));
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Contact', mergedInto(row));
      return (await withIncludes(ctx, [toContactDto(row)], o.include))[0] as ContactDto;
    },

    /** Live contacts of each company (Company.contacts): one query, grouped by company id. */
    async ofCompanies(ctx: RequestContext, companyIds: readonly string[]): Promise<Map<string, ContactDto[]>> {
      const scope = assertCan(ctx.actor, 'customers', 'read');
      const rows = await repo.contactsOfCompanies(db, companyIds, CONTACTS_PER_COMPANY, scopeCondition(ctx.actor, scope, repo.ownedColumns));
      const out = new Map<string, ContactDto[]>();
      for (const r of rows) out.set(r.companyId as string, [...(out.get(r.companyId as string) ?? []), toContactDto(r)]);
      return out;
    },

    /** The contact collection with this moment's custom fields: segments compile their rules against it. */
    filterSpec: collection,

    /** `where` narrows the listing further: a segment's compiled rules. */
    async list(ctx: RequestContext, q: ParsedListQuery & { include?: readonly string[] | undefined }, where?: SQL): Promise<Page<ContactDto>> {
      const o = listOptions(ctx, q);
      const spec = await collection();
      const compiled = compileList(q.q ? rankedCollection(spec, contacts.searchText, q.q) : spec, q);
      const list = where ? { ...compiled, where: and(compiled.where, where) } : compiled;
      const rows = await repo.listContacts(db, list, o);
      const page = toPage(list, rows, withCustomSortValues, toContactDto);
      return { ...page, items: await withIncludes(ctx, page.items, q.include) };
    },

    async count(ctx: RequestContext, q: ParsedListQuery, where?: SQL): Promise<number> {
      const o = listOptions(ctx, q);
      return repo.countContacts(db, and(compileFilter(await collection(), q.filter), where), o);
    },

    async update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<ContactDto> {
      assertCan(ctx.actor, 'customers', 'write');
      const r = await inTransaction(db, async (tx) => updateIn(tx, ctx, await lockLive(tx, id), patch, expectedVersion));
      return toContactDto(r.row);
    },

    /** For writes inside another use case's transaction (unsubscribe links): a merge patch of a live contact, audited and emitted like PATCH. */
    async patchIn(tx: Executor, ctx: RequestContext, id: string, patch: Record<string, unknown>): Promise<ContactDto> {
      assertCan(ctx.actor, 'customers', 'write');
      return toContactDto((await updateIn(tx, ctx, await lockLive(tx, id), patch)).row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'customers', 'write');
      await inTransaction(db, (tx) => removeIn(tx, ctx, id));
    },

    async restore(ctx: RequestContext, id: string): Promise<ContactDto> {
      assertCan(ctx.actor, 'customers', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockContact(tx, id);
        if (!current) throw notFound('Contact');
        if (!current.deletedAt) return current; // already live: restoring again changes nothing
        if (current.mergedIntoId) throw mergedConflict('contact', current.mergedIntoId);
        const restored = await repo.updateContact(tx, id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toContactDto(row);
    },

    /** `within`: write in the caller's transaction (the import worker's chunk), see contact-batch.ts */
    async batch(ctx: RequestContext, req: ContactBatchRequest, within?: Executor): Promise<BatchResult[]> {
      assertCan(ctx.actor, 'customers', 'write');
      return batches.run(ctx, req, within);
    },
  };
}

export type ContactService = ReturnType<typeof createContactService>;
