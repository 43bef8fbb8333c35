import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from './client.js';
import { AppError } from '../errors/app-error.js';
import { externalIds } from './external-ids.table.js';
import { BULK_FROM_ROWS, rowsAsSelect } from './bulk-insert.js';

// Keeps the external_ids side table equal to a record's `externalIds` object, in the caller's
// transaction. Services call it on every write; a taken id fails the write with 409 naming the field.

/**
 * Claims `(system, id)` for `entityId` unless another live record holds it. Returns the holder:
 * `entityId` itself when claimed (or already ours), the other record's id otherwise. INSERT … ON
 * CONFLICT waits for a concurrent claimer to commit or roll back, so two claims never both win.
 */
export async function claimExternalId(
  tx: Executor, entityType: string, system: string, externalId: string, entityId: string,
): Promise<string> {
  const claimed = await tx
    .insert(externalIds)
    .values({ entityType, system, externalId, entityId })
    .onConflictDoNothing()
    .returning({ entityId: externalIds.entityId });
  if (claimed[0]) return entityId;
  const holder = await findByExternalId(tx, entityType, system, externalId);
  // the holder vanished between the two statements (deleted and committed): claim again
  return holder ?? claimExternalId(tx, entityType, system, externalId, entityId);
}

export async function findByExternalId(tx: Executor, entityType: string, system: string, externalId: string): Promise<string | undefined> {
  const rows = await tx
    .select({ entityId: externalIds.entityId })
    .from(externalIds)
    .where(and(eq(externalIds.entityType, entityType), eq(externalIds.system, system), eq(externalIds.externalId, externalId)));
  return rows[0]?.entityId;
}

/**
 * Makes the side table hold exactly `ids` for the record (none for a deleted one). Unchanged pairs are
 * left alone; a pair held by another record throws 409 `conflict` with path `externalIds.<system>`.
 */
export async function syncExternalIds(
  tx: Executor, entityType: string, entityId: string, ids: Record<string, string> | null,
): Promise<void> {
  const wanted = Object.entries(ids ?? {});
  const keep = wanted.map(([system, id]) => sql`(${system}, ${id})`);
  await tx
    .delete(externalIds)
    .where(and(
      eq(externalIds.entityType, entityType),
      eq(externalIds.entityId, entityId),
      keep.length ? sql`(${externalIds.system}, ${externalIds.externalId}) NOT IN (${sql.join(keep, sql`, `)})` : undefined,
    ));
  const taken: string[] = [];
  for (const [system, id] of wanted) {
    if ((await claimExternalId(tx, entityType, system, id, entityId)) !== entityId) taken.push(system);
  }
  if (taken.length) {
    throw new AppError('conflict', 'Another record already has this external id', {
      errors: taken.map((s) => ({ path: `externalIds.${s}`, message: 'is already taken by another record' })),
    });
  }
}

/** Whether two `externalIds` objects hold the same pairs, whatever their key order (jsonb reorders keys). */
export function sameExternalIds(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export interface ExternalIdClaim {
  entityId: string;
  system: string;
  externalId: string;
}

/**
 * Claims many pairs in one statement for records about to be created; returns the ids of the records
 * that did NOT get every pair of theirs (taken by another record, or by an earlier claim of this same
 * list), after handing back whatever those records did get, so the caller can redo them one by one.
 */
export async function claimExternalIdsMany(tx: Executor, entityType: string, claims: ExternalIdClaim[]): Promise<Set<string>> {
  if (!claims.length) return new Set();
  const rows = claims.map((x) => ({ entityType, ...x }));
  const insert = tx.insert(externalIds);
  const got = await (rows.length >= BULK_FROM_ROWS ? insert.select(rowsAsSelect(externalIds, rows)) : insert.values(rows))
    .onConflictDoNothing()
    .returning({ entityId: externalIds.entityId, system: externalIds.system, externalId: externalIds.externalId });
  const won = new Set(got.map((g) => `${g.entityId}\u0000${g.system}\u0000${g.externalId}`));
  const losers = new Set(claims.filter((x) => !won.has(`${x.entityId}\u0000${x.system}\u0000${x.externalId}`)).map((x) => x.entityId));
  await releaseExternalIds(tx, entityType, [...losers]);
  return losers;
}

/** Drops every pair these records hold (claims of records that were not written after all). */
export async function releaseExternalIds(tx: Executor, entityType: string, entityIds: readonly string[]): Promise<void> {
  if (!entityIds.length) return;
  await tx.delete(externalIds).where(and(eq(externalIds.entityType, entityType), inArray(externalIds.entityId, [...entityIds])));
}
