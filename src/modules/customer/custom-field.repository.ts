import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { CUSTOM_ENTITIES, CUSTOM_TYPES, type CustomEntity } from './custom-field.schema.js';
import { type CustomFieldInsert, type CustomFieldRow, customFields } from './custom-field.table.js';

// Queries on definitions, and the DDL that makes `unique` a database guarantee.

export const customFieldCollection: CollectionSpec = {
  id: { expr: customFields.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'createdAt',
  fields: {
    id: { expr: customFields.id, type: 'uuid', nullable: false, sortable: true },
    entity: { expr: customFields.entity, type: 'enum', values: CUSTOM_ENTITIES, nullable: false, sortable: true },
    key: { expr: customFields.key, type: 'string', nullable: false, sortable: true },
    label: { expr: customFields.label, type: 'string', nullable: false, sortable: true },
    type: { expr: customFields.type, type: 'enum', values: CUSTOM_TYPES, nullable: false },
    required: { expr: customFields.required, type: 'boolean', nullable: false },
    unique: { expr: customFields.unique, type: 'boolean', nullable: false },
    createdAt: { expr: customFields.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: customFields.updatedAt, type: 'datetime', nullable: false, sortable: true },
  },
};

export const customFieldSortable = Object.entries(customFieldCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const customFieldFilterable = Object.keys(customFieldCollection.fields);

/** The table holding each entity's records (and its `custom` column). */
export const ENTITY_TABLE: Record<CustomEntity, string> = {
  contact: 'contacts', company: 'companies', deal: 'deals', lead: 'leads', ticket: 'tickets',
};

export async function liveDefinitions(db: Executor, entity: CustomEntity): Promise<CustomFieldRow[]> {
  return db.select().from(customFields).where(and(eq(customFields.entity, entity), isNull(customFields.deletedAt)));
}

export async function findCustomField(db: Executor, id: string): Promise<CustomFieldRow | undefined> {
  const rows = await db.select().from(customFields).where(eq(customFields.id, id)).limit(1);
  return rows[0];
}

export async function lockCustomField(tx: Executor, id: string): Promise<CustomFieldRow | undefined> {
  const rows = await tx.select().from(customFields).where(eq(customFields.id, id)).for('update');
  return rows[0];
}

export async function listCustomFields(db: Executor, list: CompiledList, includeDeleted: boolean): Promise<CustomFieldRow[]> {
  return db
    .select()
    .from(customFields)
    .where(and(list.where, includeDeleted ? undefined : isNull(customFields.deletedAt)))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function insertCustomField(tx: Executor, values: CustomFieldInsert): Promise<CustomFieldRow> {
  const rows = await tx.insert(customFields).values(values).returning();
  return rows[0] as CustomFieldRow;
}

export async function updateCustomField(tx: Executor, id: string, values: Partial<CustomFieldInsert>): Promise<CustomFieldRow> {
  const rows = await tx
    .update(customFields)
    .set({ ...values, version: sql`${customFields.version} + 1`, updatedAt: sql`now()` })
    .where(eq(customFields.id, id))
    .returning();
  return rows[0] as CustomFieldRow;
}

export async function tableExists(db: Executor, entity: CustomEntity): Promise<boolean> {
  const r = await queryRows<{ t: string | null }>(db, sql`SELECT to_regclass(${`public.${ENTITY_TABLE[entity]}`})::text AS t`);
  return Boolean(r.rows[0]?.t);
}

/** Index names stay under Postgres's 63 characters: table ≤ 9, key ≤ 50. */
export const uniqueIndexName = (entity: CustomEntity, key: string) => `${ENTITY_TABLE[entity]}_cf_${key}_key`;

/**
 * The database enforces `unique`: a partial unique expression index over the live records' value.
 * Concurrent writes of one value are serialised by the index itself (the second waits, then fails
 * with 23505 → 409), which no check-then-insert in the service could guarantee. Values are stored
 * normalised (email lower-cased, phone E.164, datetime UTC), so the text form compares like values.
 * Built inside the definition's transaction, so a definition exists if and only if its index does;
 * existing duplicates make the build fail (409), and it blocks writes to the table while it builds.
 * Identifiers are safe as literals: the key matched ^[a-z][a-z0-9_]{0,49}$, the table is ours.
 */
export async function createUniqueIndex(tx: Executor, entity: CustomEntity, key: string): Promise<void> {
  const table = ENTITY_TABLE[entity];
  await tx.execute(sql.raw(
    `CREATE UNIQUE INDEX IF NOT EXISTS "${uniqueIndexName(entity, key)}" ON "${table}" ((custom ->> '${key}')) WHERE deleted_at IS NULL`,
  ));
}

export async function dropUniqueIndex(tx: Executor, entity: CustomEntity, key: string): Promise<void> {
  await tx.execute(sql.raw(`DROP INDEX IF EXISTS "${uniqueIndexName(entity, key)}"`));
}
