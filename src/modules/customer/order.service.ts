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
import { type BatchResult, type BatchStatus, applyBatchOperation, runBatch } from '../../platform/http/batch.js';
import {
  OrderCreate, type OrderCreateInput, type OrderDto, OrderIdProperty, OrderPatch, type OrderPatchInput, type OrderRecord,
  type StoredLine, toOrderDto,
} from './order.schema.js';
import type { OrderInsert } from './order.table.js';
import type { ContactDto } from './contact.schema.js';
import * as repo from './order.repository.js';
import { checkOrderMoney, sameDecimal, toStoredLines } from './order-checks.js';

export interface OrderServiceDeps {
  db: Executor;
  /** a contact the caller may read, else 404: the contact service's get (purchase history) */
  contact: (ctx: RequestContext, id: string) => Promise<ContactDto>;
}

const ENTITY = 'order';
const ACTIONS: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' };
/** Contact.orders: the newest this many per contact, unless `first` asks for fewer */
export const ORDERS_PER_CONTACT = 50;


const sameLines = (a: readonly StoredLine[], b: readonly StoredLine[]) =>
  a.length === b.length && a.every((l, i) => {
    const o = b[i] as StoredLine;
    return l.sku === o.sku && l.name === o.name && sameDecimal(l.quantity, o.quantity) && sameDecimal(l.unitPrice, o.unitPrice);
  });

type BatchRequest = { operation: 'create' | 'update' | 'upsert' | 'delete'; idProperty?: string | undefined; records: unknown[]; atomic?: boolean | undefined };

export function createOrderService(deps: OrderServiceDeps) {
  const { db } = deps;

  /** Money (400, every bad path at once), then the contact (422): malformed input is reported first. */
  async function check(tx: Executor, input: OrderPatchInput, current?: OrderRecord): Promise<void> {
    const errors = checkOrderMoney(input, current);
    if (errors.length) throw validationFailed(errors);
    const contactId = input.contactId?.toLowerCase();
    if (contactId !== undefined && contactId !== current?.contactId && !(await repo.liveContactExists(tx, contactId))) {
      throw new AppError('invalid_reference', 'A referenced record does not exist', {
        errors: [{ path: 'contactId', message: 'does not reference a live contact' }],
      });
    }
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: OrderRecord | null, after: OrderRecord): Promise<void> {
    const b = before ? toOrderDto(before) : null;
    const a = toOrderDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    await emit(tx, ctx, { type: `${ENTITY}.${ACTIONS[action] ?? action}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
  }

  /** A new order; with `unlessTaken`, undefined when a live order already has its externalId (upsert lost a race). */
  async function createIn(tx: Executor, ctx: RequestContext, raw: unknown, o: { unlessTaken?: boolean } = {}): Promise<OrderRecord | undefined> {
    const input = parseInput(OrderCreate, raw) as OrderCreateInput;
    await check(tx, input);
    const lines = toStoredLines(input.lines ?? []);
    const values: OrderInsert = {
      id: newId(), externalId: input.externalId ?? null, contactId: input.contactId.toLowerCase(), status: input.status ?? 'pending',
      total: input.total, currency: input.currency, ...(input.placedAt ? { placedAt: new Date(input.placedAt) } : {}),
    };
    const row = o.unlessTaken ? await repo.insertOrderUnlessExternalIdTaken(tx, values) : await repo.insertOrder(tx, values);
    if (!row) return undefined;
    await repo.replaceLines(tx, row.id, lines);
    const rec = { ...row, lines };
    await written(tx, ctx, 'create', null, rec);
    return rec;
  }

  async function updateIn(
    tx: Executor, ctx: RequestContext, current: OrderRecord, raw: unknown, expectedVersion?: number,
  ): Promise<{ row: OrderRecord; changed: boolean }> {
    const patch = parseInput(OrderPatch, raw);
    await check(tx, patch, current);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('version_conflict', `The order is at version ${current.version}, not ${expectedVersion}`, {
        extensions: { current: toOrderDto(current) },
      });
    }
    const changes: Partial<OrderInsert> = {};
    if (patch.externalId !== undefined && patch.externalId !== current.externalId) changes.externalId = patch.externalId;
    if (patch.contactId !== undefined && patch.contactId.toLowerCase() !== current.contactId) changes.contactId = patch.contactId.toLowerCase();
    if (patch.status !== undefined && patch.status !== current.status) changes.status = patch.status;
    if (patch.total !== undefined && !sameDecimal(patch.total, current.total)) changes.total = patch.total;
    if (patch.currency !== undefined && patch.currency !== current.currency) changes.currency = patch.currency;
    if (patch.placedAt !== undefined && new Date(patch.placedAt).getTime() !== current.placedAt.getTime()) changes.placedAt = new Date(patch.placedAt);
    const lines = patch.lines ? toStoredLines(patch.lines) : undefined;
    const linesChanged = lines !== undefined && !sameLines(lines, current.lines);
    if (Object.keys(changes).length === 0 && !linesChanged) return { row: current, changed: false };
    const row = await repo.updateOrder(tx, current.id, changes);
    if (linesChanged) await repo.replaceLines(tx, current.id, lines);
    const rec = { ...row, lines: linesChanged ? lines : current.lines };
    await written(tx, ctx, 'update', current, rec);
    return { row: rec, changed: true };
  }

  async function lockLive(tx: Executor, id: string): Promise<OrderRecord> {
    const row = await repo.lockOrder(tx, id);
    if (!row || row.deletedAt) throw notFound('Order');
    return row;
  }

  async function removeIn(tx: Executor, ctx: RequestContext, id: string): Promise<OrderRecord> {
    const current = await lockLive(tx, id);
    const row = await repo.updateOrder(tx, id, { deletedAt: new Date() });
    const rec = { ...row, lines: current.lines };
    await written(tx, ctx, 'delete', current, rec);
    return rec;
  }

  function keyOf(idProperty: string, record: Record<string, unknown>): string {
    const key = record[idProperty];
    if (typeof key !== 'string' || !key.trim()) throw validationFailed([{ path: idProperty, message: `is required to match by ${idProperty}` }]);
    if (idProperty === 'id' && !z.uuid().safeParse(key).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
    return idProperty === 'id' ? key.toLowerCase() : key.trim();
  }

  /** The live order a batch record addresses, locked, or undefined. */
  async function lockByKey(tx: Executor, idProperty: string, record: Record<string, unknown>): Promise<OrderRecord | undefined> {
    const key = keyOf(idProperty, record);
    const row = idProperty === 'id' ? await repo.lockOrder(tx, key) : await repo.lockOrderByExternalId(tx, key);
    return row && !row.deletedAt ? row : undefined;
  }

  /**
   * Upsert by externalId: INSERT … ON CONFLICT on the live-externalId index is the arbiter, never the
   * lookup alone. The loser of a race waits for the winner's commit and updates its order next round.
   */
  async function upsertIn(tx: Executor, ctx: RequestContext, idProperty: string, record: Record<string, unknown>) {
    const { id: _id, ...fields } = record;
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await lockByKey(tx, idProperty, record);
      if (existing) {
        const r = await updateIn(tx, ctx, existing, fields);
        return { id: existing.id, status: (r.changed ? 'updated' : 'unchanged') as BatchStatus };
      }
      if (idProperty === 'id') throw notFound('Order');
      const row = await createIn(tx, ctx, { ...fields, externalId: keyOf(idProperty, record) }, { unlessTaken: true });
      if (row) return { id: row.id, status: 'created' as BatchStatus };
    }
    throw new AppError('conflict', 'The order kept changing while being upserted; retry');
  }

  const readable = (ctx: RequestContext, includeDeleted: boolean | undefined) => {
    assertCan(ctx.actor, 'orders', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
  };

  async function list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<OrderDto>> {
    readable(ctx, q.includeDeleted);
    const spec = repo.orderCollection;
    const compiled = compileList(spec, q);
    const rows = await repo.listOrders(db, compiled, { includeDeleted: q.includeDeleted ?? false });
    return toPage(compiled, rows, (r) => ({ ...r }), toOrderDto);
  }

  return {
    async create(ctx: RequestContext, input: unknown): Promise<OrderDto> {
      assertCan(ctx.actor, 'orders', 'write');
      return toOrderDto((await inTransaction(db, (tx) => createIn(tx, ctx, input))) as OrderRecord);
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean } = {}): Promise<OrderDto> {
      readable(ctx, o.includeDeleted);
      const row = await repo.findOrder(db, id);
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Order');
      return toOrderDto(row);
    },

    list,

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      readable(ctx, q.includeDeleted);
      return repo.countOrders(db, compileFilter(repo.orderCollection, q.filter), { includeDeleted: q.includeDeleted ?? false });
    },

    /** GET /v1/contacts/:id/orders: the list filtered by contact; 404 when the caller may not see the contact. */
    async ofContact(ctx: RequestContext, contactId: string, q: ParsedListQuery): Promise<Page<OrderDto>> {
      assertCan(ctx.actor, 'orders', 'read');
      const contact = await deps.contact(ctx, contactId);
      return list(ctx, { ...q, filter: { ...q.filter, contactId: { eq: contact.id } } });
    },

    /** Contact.orders: live orders of each contact, newest first, in one query. */
    async ofContacts(ctx: RequestContext, contactIds: readonly string[], perContact = ORDERS_PER_CONTACT): Promise<Map<string, OrderDto[]>> {
      assertCan(ctx.actor, 'orders', 'read');
      const out = new Map<string, OrderDto[]>();
      for (const r of await repo.ordersOfContacts(db, [...new Set(contactIds)], perContact)) {
        out.set(r.contactId, [...(out.get(r.contactId) ?? []), toOrderDto(r)]);
      }
      return out;
    },

    async update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<OrderDto> {
      assertCan(ctx.actor, 'orders', 'write');
      const r = await inTransaction(db, async (tx) => updateIn(tx, ctx, await lockLive(tx, id), patch, expectedVersion));
      return toOrderDto(r.row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'orders', 'write');
      await inTransaction(db, (tx) => removeIn(tx, ctx, id));
    },

    /** Back to live; 409 when another live order took its externalId meanwhile (the unique index says so). */
    async restore(ctx: RequestContext, id: string): Promise<OrderDto> {
      assertCan(ctx.actor, 'orders', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockOrder(tx, id);
        if (!current) throw notFound('Order');
        if (!current.deletedAt) return current; // already live: restoring again changes nothing
        const restored = { ...(await repo.updateOrder(tx, id, { deletedAt: null })), lines: current.lines };
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toOrderDto(row);
    },

    async batch(ctx: RequestContext, req: BatchRequest): Promise<BatchResult[]> {
      assertCan(ctx.actor, 'orders', 'write');
      // REST checks it in the route schema; GraphQL passes any string, so the service checks it too
      const key = OrderIdProperty.safeParse(req.idProperty ?? 'id');
      if (!key.success) throw validationFailed([{ path: 'idProperty', message: 'must be id or externalId' }]);
      const idProperty = key.data;
      return inTransaction(db, (tx) =>
        runBatch(tx, req.records, req.atomic ?? false, ctx.requestId, (t, raw) =>
          applyBatchOperation(t, req.operation, idProperty, raw, {
            entity: 'Order',
            create: async (x, record) => (await createIn(x, ctx, record)) as OrderRecord,
            upsert: (x, k, record) => upsertIn(x, ctx, k, record),
            lockByKey,
            update: (x, current, fields) => updateIn(x, ctx, current, fields),
            remove: (x, id) => removeIn(x, ctx, id),
          }),
        ),
      );
    },
  };
}

export type OrderService = ReturnType<typeof createOrderService>;
