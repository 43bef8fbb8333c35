import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { driverError } from '../../platform/db/errors.js';
import { newId } from '../../platform/db/columns.js';
import { claimExternalIdsMany, findByExternalId, releaseExternalIds, sameExternalIds } from '../../platform/db/external-ids.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { type BatchResult, type BatchStatus, assertBatchSize, batchIdProperty, errorOf, runBatch } from '../../platform/http/batch.js';
import { admissionGate } from '../../platform/http/admission.js';
import { ContactCreate, ContactIdProperty, ContactPatch, type ContactPatchInput } from './contact.schema.js';
import type { ContactInsert, ContactRow } from './contact.table.js';
import { companyToCheck, liveCompanyIds, missingCompany } from './contact-checks.js';
import { queueContactRefresh } from './duplicate-queue.js';
import * as repo from './contact.repository.js';
import { insertContactsRecorded, updateContactsRecorded } from './contact-batch.repository.js';

// A contacts batch of creates or upserts, written set-based: one lock query for every key, the checks
// in memory, one INSERT for the new rows and one UPDATE for the changed ones, one audit and one outbox
// insert, one duplicate-candidate queue insert (the lookups run after commit: duplicate-queue.ts). The per-record path (savepoint, a dozen statements each)
// cost ~15 ms a record; this costs a few statements a batch. The rules are the per-record path's: a
// record whose write the set-based statements cannot decide alone (a unique value another row took
// meanwhile, an external id to move) is left to that path, which then reports or resolves it exactly.

/** batches of at least this many creates or upserts are written set-based (writeContactBatch) */
const SET_BASED_FROM = 10;
/**
 * Batches of at least SET_BASED_FROM records run two at a time per process, four more waiting up to 10 s
 * for a turn; any more get 503 with Retry-After at once (admission.ts: fifty at once starved the pool
 * and the event loop). Two keep both cores busy (this process and PostgreSQL) on the 2-core reference machine.
 */
const BATCH_ADMISSION = { what: 'batches', concurrency: 2, queue: 4, maxWaitMs: 10_000, retryAfterSeconds: 5 };

export interface ContactBatchRequest {
  operation: 'create' | 'update' | 'upsert' | 'delete';
  idProperty?: string | undefined;
  records: unknown[];
  atomic?: boolean | undefined;
}

export interface ContactBatchSteps {
  /** checkContact without the company lookup */
  checkFields(tx: Executor, input: ContactPatchInput, current?: ContactRow): Promise<ContactPatchInput>;
  valuesOfNew(ctx: RequestContext, input: ContactPatchInput): ContactInsert;
  changesOf(ctx: RequestContext, current: ContactRow, patch: ContactPatchInput): Partial<ContactInsert>;
}

export interface ContactBatchCallSteps extends ContactBatchSteps {
  /** the per-record path of one record of this call (contact.service's create, upsert, update or delete) */
  perRecord(ctx: RequestContext, operation: ContactBatchRequest['operation'], idProperty: string): PerRecord;
}

type PerRecord = (tx: Executor, record: unknown) => Promise<{ id: string; status: BatchStatus }>;

/**
 * Batch calls of the contact service: the admission gate, then set-based creates and upserts (from
 * SET_BASED_FROM records, not atomic) or record by record for the rest. `within`: write in the caller's
 * transaction (as a savepoint) instead of one of its own — the import worker commits a chunk's writes
 * together with the chunk's resume point, so no row is applied twice.
 */
export function contactBatchCalls(db: Executor, steps: ContactBatchCallSteps) {
  const gate = admissionGate(BATCH_ADMISSION);
  return {
    /** Throws 503 with Retry-After when a large batch would be refused now: REST asks before reading the body. */
    assertRoom: () => gate.assertRoom(),

    run(ctx: RequestContext, req: ContactBatchRequest, within?: Executor): Promise<BatchResult[]> {
      const idProperty = batchIdProperty(ContactIdProperty, req.idProperty);
      const { operation } = req;
      const perRecord = steps.perRecord(ctx, operation, idProperty);
      assertBatchSize(req.records); // before the set-based path too, which does not go through runBatch
      const write = () => inTransaction(within ?? db, async (tx) => {
        // creates and upserts, the bulk of imports and syncs, go set-based; the rest record by record, and so
        // do a handful of records, for which the set statements' planning costs more than it saves
        const setBased = !req.atomic && (operation === 'create' || operation === 'upsert') && req.records.length >= SET_BASED_FROM
          ? await writeContactBatch(tx, ctx, operation, idProperty, req.records, { ...steps, perRecord })
          : undefined;
        return setBased ?? runBatch(tx, req.records, req.atomic ?? false, ctx.requestId, perRecord);
      });
      // the gate sheds concurrent API batches; the import worker (within) is already one chunk at a time
      // per job and must not be refused mid-chunk
      return req.records.length >= SET_BASED_FROM && !within ? gate.run(write) : write();
    },
  };
}

/** The value a record is matched by: `id`, `email` or `externalIds.<system>` of the record (400 when it lacks it). */
export function contactKeyOf(idProperty: string, record: Record<string, unknown>): string {
  const system = idProperty.startsWith('externalId.') ? idProperty.slice('externalId.'.length) : undefined;
  const ids = record.externalIds as Record<string, unknown> | undefined;
  const key = system ? (ids && typeof ids === 'object' ? ids[system] : undefined) : record[idProperty];
  const path = system ? `externalIds.${system}` : idProperty;
  if (typeof key !== 'string' || !key.trim()) throw validationFailed([{ path, message: `is required to match by ${idProperty}` }]);
  if (idProperty === 'id' && !z.uuid().safeParse(key).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
  return idProperty === 'email' ? key.trim().toLowerCase() : key.trim();
}

/** Finds the live contact a record of an upsert, update or delete addresses, locked, or undefined. */
export async function lockContactByKey(tx: Executor, idProperty: string, record: Record<string, unknown>): Promise<ContactRow | undefined> {
  const key = contactKeyOf(idProperty, record);
  if (idProperty === 'email') return repo.lockContactByEmail(tx, key);
  const id = idProperty === 'id' ? key : await findByExternalId(tx, 'contact', idProperty.slice('externalId.'.length), key);
  const row = id ? await repo.lockContact(tx, id) : undefined;
  return row && !row.deletedAt ? row : undefined;
}

interface Plan {
  index: number;
  current?: ContactRow;
  input: ContactPatchInput;
  values?: ContactInsert & { id: string };
  changes?: Partial<ContactInsert>;
}

const duplicated = (keys: (string | undefined)[]) => {
  const given = keys.filter((k): k is string => k !== undefined);
  return new Set(given).size !== given.length;
};

/**
 * Non-atomic creates and upserts. Undefined when the batch names one key twice: the second record
 * must see what the first wrote, which only the per-record path gives.
 */
async function writeContactBatch(
  tx: Executor, ctx: RequestContext, operation: 'create' | 'upsert', idProperty: string, raw: unknown[],
  steps: ContactBatchSteps & { perRecord: PerRecord },
): Promise<BatchResult[] | undefined> {
  const records = raw.map((r) => (r ?? {}) as Record<string, unknown>);
  const results: (BatchResult | undefined)[] = new Array(records.length);
  const fail = (index: number, e: unknown) => void (results[index] = errorOf(e, index, ctx.requestId));
  const keys = records.map((r, i) => {
    if (operation === 'create') return undefined;
    try {
      return contactKeyOf(idProperty, r);
    } catch (e) {
      return void fail(i, e);
    }
  });
  if (duplicated(keys)) return undefined;
  const existing = await repo.lockContactsByKeys(tx, idProperty, keys.filter((k): k is string => k !== undefined));

  const plans: Plan[] = [];
  for (const [index, record] of records.entries()) {
    if (results[index]) continue;
    try {
      const key = keys[index];
      const current = key === undefined ? undefined : existing.get(key);
      const { id: _id, ...fields } = record;
      if (current) plans.push({ index, current, input: await steps.checkFields(tx, parseInput(ContactPatch, fields), current) });
      else if (operation === 'upsert' && idProperty === 'id') throw notFound('Contact');
      else plans.push({ index, input: await steps.checkFields(tx, parseInput(ContactCreate, operation === 'create' ? record : fields)) });
    } catch (e) {
      fail(index, e);
    }
  }

  const companies = await liveCompanyIds(tx, [...new Set(plans.map((p) => companyToCheck(p.input, p.current)).filter((id): id is string => !!id))]);
  const fallback: number[] = [];
  for (const p of plans) {
    try {
      const company = companyToCheck(p.input, p.current);
      if (company && !companies.has(company)) throw missingCompany();
      if (!p.current) p.values = { ...steps.valuesOfNew(ctx, p.input), id: newId() };
      else {
        p.changes = steps.changesOf(ctx, p.current, p.input);
        if (Object.keys(p.changes).length === 0) results[p.index] = { index: p.index, id: p.current.id, status: 'unchanged' };
        else if (!sameExternalIds(p.current.externalIds, p.changes.externalIds ?? p.current.externalIds)) fallback.push(p.index);
      }
    } catch (e) {
      fail(p.index, e);
    }
  }
  const pending = plans.filter((p) => !results[p.index] && !fallback.includes(p.index));
  const written = [
    ...(await insertNew(tx, ctx, pending.filter((p) => p.values), fallback)),
    ...(await updateChanged(tx, ctx, pending.filter((p) => p.changes), fallback)),
  ].sort((a, b) => a.index - b.index);
  await queueContactRefresh(tx, written);
  for (const w of written) results[w.index] = { index: w.index, id: w.row.id, status: w.before ? 'updated' : 'created' };

  if (fallback.length) {
    fallback.sort((a, b) => a - b);
    const redone = await runBatch(tx, fallback.map((i) => records[i]), false, ctx.requestId, (t, record) => steps.perRecord(t, record));
    for (const r of redone) {
      const index = fallback[r.index] as number;
      results[index] = { ...r, index };
    }
  }
  return results as BatchResult[];
}

/** A record written: `row` is what its contact now holds in the columns duplicate-queue.ts compares (not read back). */
type Written = { index: number; before: ContactRow | null; row: ContactRow };

/**
 * The new rows: their external ids claimed, then one INSERT with their audit rows and events; a record
 * that lost a claim or a unique value goes to `fallback`.
 */
async function insertNew(tx: Executor, ctx: RequestContext, plans: Plan[], fallback: number[]): Promise<Written[]> {
  const claims = plans.flatMap((p) => Object.entries(p.values!.externalIds ?? {}).map(([system, externalId]) => ({ entityId: p.values!.id, system, externalId })));
  const lost = await claimExternalIdsMany(tx, 'contact', claims);
  const claimed = plans.filter((p) => !lost.has(p.values!.id));
  const inserted = await insertContactsRecorded(tx, ctx, claimed.map((p) => p.values!));
  await releaseExternalIds(tx, 'contact', claimed.filter((p) => !inserted.has(p.values!.id)).map((p) => p.values!.id));
  const out: Written[] = [];
  for (const p of plans) {
    if (inserted.has(p.values!.id)) out.push({ index: p.index, before: null, row: p.values as ContactRow });
    else fallback.push(p.index);
  }
  return out;
}

/**
 * The changed rows in one UPDATE with their audit rows and events; should it meet a unique value
 * (email, a unique custom field), every update goes to `fallback`.
 */
async function updateChanged(tx: Executor, ctx: RequestContext, plans: Plan[], fallback: number[]): Promise<Written[]> {
  if (!plans.length) return [];
  try {
    await tx.transaction((sp) => updateContactsRecorded(sp as unknown as Executor, ctx, plans.map((p) => ({ current: p.current!, changes: p.changes! }))));
    return plans.map((p) => ({ index: p.index, before: p.current!, row: { ...p.current!, ...p.changes } as ContactRow }));
  } catch (e) {
    if (!driverError(e)?.code?.startsWith('23')) throw e; // integrity violations only; anything else fails the call
    fallback.push(...plans.map((p) => p.index));
    return [];
  }
}
