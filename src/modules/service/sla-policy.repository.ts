import { type SQL, and, count, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { type SlaPolicyRow, slaPolicies as p } from './sla-policy.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export type SlaPolicyInsert = typeof p.$inferInsert;

export const slaPolicyCollection: CollectionSpec = {
  id: { expr: p.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'createdAt',
  fields: {
    id: { expr: p.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: p.name, type: 'string', nullable: false, sortable: true },
    isDefault: { expr: p.isDefault, type: 'boolean', nullable: false },
    timeZone: { expr: p.timeZone, type: 'string', nullable: false, sortable: true },
    createdAt: { expr: p.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: p.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: p.deletedAt, type: 'datetime', nullable: true },
  },
};

export const slaPolicySortable = Object.entries(slaPolicyCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const slaPolicyFilterable = Object.keys(slaPolicyCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(p.deletedAt));

export async function findPolicy(db: Executor, id: string): Promise<SlaPolicyRow | undefined> {
  const rows = await db.select().from(p).where(eq(p.id, id)).limit(1);
  return rows[0];
}

export async function lockPolicy(tx: Executor, id: string): Promise<SlaPolicyRow | undefined> {
  const rows = await tx.select().from(p).where(eq(p.id, id)).for('update');
  return rows[0];
}

export async function livePolicy(db: Executor, id: string): Promise<SlaPolicyRow | undefined> {
  const rows = await db.select().from(p).where(and(eq(p.id, id), isNull(p.deletedAt))).limit(1);
  return rows[0];
}

/** The live default policy, if any (sla_policies_default_key allows at most one). */
export async function defaultPolicy(db: Executor): Promise<SlaPolicyRow | undefined> {
  const rows = await db.select().from(p).where(and(eq(p.isDefault, true), isNull(p.deletedAt))).limit(1);
  return rows[0];
}

export async function listPolicies(db: Executor, list: CompiledList, o: { includeDeleted: boolean }): Promise<SlaPolicyRow[]> {
  return db.select().from(p).where(and(list.where, live(o.includeDeleted))).orderBy(...list.orderBy).limit(list.fetch);
}

export async function countPolicies(db: Executor, where: SQL | undefined, o: { includeDeleted: boolean }): Promise<number> {
  const rows = await db.select({ n: count() }).from(p).where(and(where, live(o.includeDeleted)));
  return Number(rows[0]?.n ?? 0);
}

export async function insertPolicy(tx: Executor, values: SlaPolicyInsert): Promise<SlaPolicyRow> {
  const rows = await tx.insert(p).values(values).returning();
  return rows[0] as SlaPolicyRow;
}

export async function updatePolicy(tx: Executor, id: string, values: Partial<SlaPolicyInsert>): Promise<SlaPolicyRow> {
  const rows = await tx
    .update(p)
    .set({ ...values, version: sql`${p.version} + 1`, updatedAt: sql`now()` })
    .where(eq(p.id, id))
    .returning();
  return rows[0] as SlaPolicyRow;
}

/**
 * Serialises default switches: two transactions each making their policy the default would otherwise
 * both clear the old one and collide on sla_policies_default_key.
 */
const DEFAULT_SWITCH_LOCK = 7_305_114_071;
export async function lockDefaultSwitch(tx: Executor): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${DEFAULT_SWITCH_LOCK})`);
}

/** The live default other than `exceptId`, locked, if any. */
export async function lockOtherDefault(tx: Executor, exceptId: string): Promise<SlaPolicyRow | undefined> {
  const rows = await tx
    .select()
    .from(p)
    .where(and(eq(p.isDefault, true), isNull(p.deletedAt), ne(p.id, exceptId)))
    .for('update');
  return rows[0];
}
