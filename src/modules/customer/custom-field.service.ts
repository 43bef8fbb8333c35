import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial } from '../../platform/auth/permissions.js';
import { AppError, type FieldError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import {
  CUSTOM_ENTITIES, CustomFieldCreate, type CustomFieldDto, CustomFieldPatch, type CustomEntity, NON_UNIQUE_TYPES, OPTION_TYPES,
  toCustomFieldDto,
} from './custom-field.schema.js';
import type { CustomFieldRow } from './custom-field.table.js';
import * as repo from './custom-field.repository.js';
import { type CustomDefinition, type CustomFieldLookup, type ValidateCustom, customFieldLookup, validateValues } from './custom-values.js';

export interface CustomFieldServiceDeps {
  db: Executor;
  defaultPhoneRegion: string;
  /** how long a process trusts its copy of the definitions (see `definitions`) */
  cacheTtlMs?: number;
}

const ENTITY = 'custom_field';
/** Fields a definition keeps for life (see CustomFieldPatch for why). */
const FIXED = ['entity', 'key', 'type', 'unique'] as const;


function checkOptions(type: string, options: readonly string[] | undefined, errors: FieldError[]): void {
  const needs = OPTION_TYPES.includes(type as never);
  if (needs && !options?.length) errors.push({ path: 'options', message: `is required for ${type} fields` });
  if (!needs && options !== undefined) errors.push({ path: 'options', message: `is only allowed for select and multiselect fields` });
}

export function createCustomFieldService(deps: CustomFieldServiceDeps) {
  const { db } = deps;
  const ttl = deps.cacheTtlMs ?? 2_000;

  /**
   * Definitions per entity, cached per process. A change made here drops the entity's entry at once
   * (after commit); a change made by another process is seen within `ttl`. During that window a stale
   * process may still accept a key just deleted, or refuse one just created: a validation nuance only.
   * What must never be stale is enforced by the database whatever the cache holds: uniqueness (the
   * index). A version query per write would close the window at the price of a round trip on every
   * write of every entity; 2 s of eventual consistency on configuration is the better trade here.
   */
  const cache = new Map<CustomEntity, { at: number; defs: Promise<CustomFieldRow[]> }>();
  function definitions(entity: CustomEntity, executor: Executor = db): Promise<CustomFieldRow[]> {
    const hit = cache.get(entity);
    if (hit && Date.now() - hit.at < ttl) return hit.defs;
    const defs = repo.liveDefinitions(executor, entity);
    cache.set(entity, { at: Date.now(), defs });
    defs.catch(() => cache.delete(entity)); // never cache a failure (database outage → 503, then recover)
    return defs;
  }
  const invalidate = (entity: string) => cache.delete(entity as CustomEntity);
  const asDefinitions = (rows: CustomFieldRow[]) => rows as unknown as CustomDefinition[];

  async function written(tx: Executor, ctx: RequestContext, action: string, before: CustomFieldRow | null, after: CustomFieldRow) {
    const b = before ? toCustomFieldDto(before) : null;
    const a = toCustomFieldDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
  }

  async function lockLive(tx: Executor, id: string): Promise<CustomFieldRow> {
    const row = await repo.lockCustomField(tx, id);
    if (!row || row.deletedAt) throw notFound('Custom field');
    return row;
  }

  const validateCustom: ValidateCustom = async (entity, custom, op, tx) =>
    validateValues(asDefinitions(await definitions(entity, tx)), custom, op, deps.defaultPhoneRegion);

  const filterFields: CustomFieldLookup = async (entity, column, executor) =>
    customFieldLookup(asDefinitions(await definitions(entity, executor)), column);

  return {
    /** the hook entity services call on every write */
    validateCustom,
    /** the hook entity services call to resolve `custom.<key>` in filters and sorts */
    filterFields,

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<CustomFieldDto>> {
      assertCan(ctx.actor, 'config', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const list = compileList(repo.customFieldCollection, q);
      const rows = await repo.listCustomFields(db, list, q.includeDeleted ?? false);
      return toPage(list, rows, (r) => r, toCustomFieldDto);
    },

    async listFor(ctx: RequestContext, entity: string | undefined): Promise<CustomFieldDto[]> {
      assertCan(ctx.actor, 'config', 'read');
      const entities = entity === undefined ? CUSTOM_ENTITIES : [parseInput(z.enum(CUSTOM_ENTITIES), entity)];
      const rows = (await Promise.all(entities.map((e) => repo.liveDefinitions(db, e)))).flat();
      return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id)).map(toCustomFieldDto);
    },

    async get(ctx: RequestContext, id: string): Promise<CustomFieldDto> {
      assertCan(ctx.actor, 'config', 'read');
      const row = await repo.findCustomField(db, id);
      if (!row || row.deletedAt) throw notFound('Custom field');
      return toCustomFieldDto(row);
    },

    async create(ctx: RequestContext, raw: unknown): Promise<CustomFieldDto> {
      assertCan(ctx.actor, 'config', 'write');
      const input = parseInput(CustomFieldCreate, raw);
      const errors: FieldError[] = [];
      checkOptions(input.type, input.options, errors);
      if (input.unique && NON_UNIQUE_TYPES.includes(input.type)) {
        errors.push({ path: 'unique', message: `is not available for ${input.type} fields` });
      }
      if (errors.length) throw validationFailed(errors);
      const row = await inTransaction(db, async (tx) => {
        if (input.unique && !(await repo.tableExists(tx, input.entity))) {
          throw validationFailed([{ path: 'unique', message: `needs the ${input.entity} records, which this service does not store yet` }]);
        }
        const created = await repo.insertCustomField(tx, {
          entity: input.entity, key: input.key, label: input.label, type: input.type,
          options: input.options ?? [], required: input.required ?? false, unique: input.unique ?? false,
        });
        if (created.unique) await repo.createUniqueIndex(tx, input.entity, input.key);
        await written(tx, ctx, 'create', null, created);
        return created;
      });
      invalidate(row.entity);
      return toCustomFieldDto(row);
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<CustomFieldDto> {
      assertCan(ctx.actor, 'config', 'write');
      // REST's body schema already refuses these; GraphQL and direct callers get the same reason.
      if (raw && typeof raw === 'object') {
        const fixed = FIXED.filter((k) => k in raw);
        if (fixed.length) {
          throw validationFailed(fixed.map((k) => ({ path: k, message: 'cannot be changed after creation; create a new field instead' })));
        }
      }
      const patch = parseInput(CustomFieldPatch, raw);
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The custom field is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toCustomFieldDto(current) },
          });
        }
        const errors: FieldError[] = [];
        if (patch.options !== undefined) checkOptions(current.type, patch.options, errors);
        if (errors.length) throw validationFailed(errors);
        const changes = Object.fromEntries(
          Object.entries(patch).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(current[k as keyof CustomFieldRow])),
        );
        if (Object.keys(changes).length === 0) return current;
        const updated = await repo.updateCustomField(tx, id, changes);
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      invalidate(row.entity);
      return toCustomFieldDto(row);
    },

    /**
     * Soft delete: the key becomes unknown (writes naming it are refused) and free for a new
     * definition. Stored values stay in the records (history, audit); the unique index goes, or a
     * later non-unique field of the same key would still be held to it.
     */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'config', 'write');
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        const deleted = await repo.updateCustomField(tx, id, { deletedAt: new Date() });
        if (current.unique) await repo.dropUniqueIndex(tx, current.entity as CustomEntity, current.key);
        await written(tx, ctx, 'delete', current, deleted);
        return deleted;
      });
      invalidate(row.entity);
    },
  };
}

export type CustomFieldService = ReturnType<typeof createCustomFieldService>;
