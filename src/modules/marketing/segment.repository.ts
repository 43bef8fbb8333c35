import { type SQL, and, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { type SegmentInsert, type SegmentRow, segments as s } from './segment.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const segmentCollection: CollectionSpec = {
  id: { expr: s.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: s.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: s.name, type: 'string', nullable: false, sortable: true },
    ownerId: { expr: s.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: s.teamId, type: 'uuid', nullable: true },
    createdAt: { expr: s.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: s.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: s.deletedAt, type: 'datetime', nullable: true },
  },
};

export const segmentSortable = Object.entries(segmentCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const segmentFilterable = Object.keys(segmentCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(s.deletedAt));

export async function findSegment(db: Executor, id: string): Promise<SegmentRow | undefined> {
  const rows = await db.select().from(s).where(eq(s.id, id)).limit(1);
  return rows[0];
}

export async function lockSegment(tx: Executor, id: string): Promise<SegmentRow | undefined> {
  const rows = await tx.select().from(s).where(eq(s.id, id)).for('update');
  return rows[0];
}

export async function listSegments(db: Executor, list: CompiledList, o: { includeDeleted: boolean }): Promise<SegmentRow[]> {
  return db.select().from(s).where(and(list.where, live(o.includeDeleted))).orderBy(...list.orderBy).limit(list.fetch);
}

export async function countSegments(db: Executor, where: SQL | undefined, o: { includeDeleted: boolean }): Promise<number> {
  const rows = await db.select({ n: count() }).from(s).where(and(where, live(o.includeDeleted)));
  return Number(rows[0]?.n ?? 0);
}

export async function insertSegment(tx: Executor, values: SegmentInsert): Promise<SegmentRow> {
  const rows = await tx.insert(s).values(values).returning();
  return rows[0] as SegmentRow;
}

export async function updateSegment(tx: Executor, id: string, values: Partial<SegmentInsert>): Promise<SegmentRow> {
  const rows = await tx
    .update(s)
    .set({ ...values, version: sql`${s.version} + 1`, updatedAt: sql`now()` })
    .where(eq(s.id, id))
    .returning();
  return rows[0] as SegmentRow;
}

export async function findSegments(db: Executor, ids: string[]): Promise<SegmentRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(s).where(and(inArray(s.id, ids), isNull(s.deletedAt)));
}
