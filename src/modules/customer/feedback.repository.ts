import { type SQL, and, count, desc, eq, getTableColumns, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { OwnedColumns } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { contacts } from './contact.table.js';
import { FEEDBACK_TYPES, type FeedbackRow, feedback as f } from './feedback.table.js';
import type { KeysetPredicate } from './timeline.repository.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

type FeedbackInsert = typeof f.$inferInsert;
export type { FeedbackInsert };

export const feedbackCollection: CollectionSpec = {
  id: { expr: f.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: f.id, type: 'uuid', nullable: false, sortable: true },
    type: { expr: f.type, type: 'enum', nullable: false, values: FEEDBACK_TYPES, sortable: true },
    score: { expr: f.score, type: 'integer', nullable: false, sortable: true },
    contactId: { expr: f.contactId, type: 'uuid', nullable: false },
    ticketId: { expr: f.ticketId, type: 'uuid', nullable: true },
    ownerId: { expr: f.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: f.teamId, type: 'uuid', nullable: true },
    createdAt: { expr: f.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: f.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: f.deletedAt, type: 'datetime', nullable: true },
  },
};

export const ownedColumns: OwnedColumns = { ownerId: f.ownerId, teamId: f.teamId };

export const feedbackSortable = Object.entries(feedbackCollection.fields).filter(([, x]) => x.sortable).map(([k]) => k);
export const feedbackFilterable = Object.keys(feedbackCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(f.deletedAt));

export async function findFeedback(db: Executor, id: string, scope?: SQL): Promise<FeedbackRow | undefined> {
  const rows = await db.select().from(f).where(and(eq(f.id, id), scope)).limit(1);
  return rows[0];
}

export async function lockFeedback(tx: Executor, id: string): Promise<FeedbackRow | undefined> {
  const rows = await tx.select().from(f).where(eq(f.id, id)).for('update');
  return rows[0];
}

export async function listFeedback(
  db: Executor, list: CompiledList, o: { includeDeleted: boolean; scope?: SQL | undefined },
): Promise<FeedbackRow[]> {
  return db.select().from(f).where(and(list.where, live(o.includeDeleted), o.scope)).orderBy(...list.orderBy).limit(list.fetch);
}

export async function countFeedback(
  db: Executor, where: SQL | undefined, o: { includeDeleted: boolean; scope?: SQL | undefined },
): Promise<number> {
  const rows = await db.select({ n: count() }).from(f).where(and(where, live(o.includeDeleted), o.scope));
  return Number(rows[0]?.n ?? 0);
}

export async function insertFeedback(tx: Executor, values: FeedbackInsert): Promise<FeedbackRow> {
  const rows = await tx.insert(f).values(values).returning();
  return rows[0] as FeedbackRow;
}

export async function updateFeedback(tx: Executor, id: string, values: Partial<FeedbackInsert>): Promise<FeedbackRow> {
  const rows = await tx
    .update(f)
    .set({ ...values, version: sql`${f.version} + 1`, updatedAt: sql`now()` })
    .where(eq(f.id, id))
    .returning();
  return rows[0] as FeedbackRow;
}

/** Whether a live contact has this id (the foreign key alone would accept a deleted one). */
export async function liveContactExists(tx: Executor, id: string): Promise<boolean> {
  const rows = await tx.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.id, id), isNull(contacts.deletedAt)));
  return rows.length > 0;
}

/** Live feedback of several contacts, newest first, at most `perContact` each: one query for a loader. */
export async function feedbackOfContacts(db: Executor, contactIds: readonly string[], perContact: number, scope?: SQL): Promise<FeedbackRow[]> {
  if (contactIds.length === 0) return [];
  const rn = sql<number>`row_number() over (partition by ${f.contactId} order by ${f.createdAt} desc, ${f.id} desc)`.as('rn');
  const ranked = db
    .select({ ...getTableColumns(f), rn })
    .from(f)
    .where(and(inArray(f.contactId, [...contactIds]), isNull(f.deletedAt), scope))
    .as('ranked');
  const rows = await db.select().from(ranked).where(lte(ranked.rn, perContact)).orderBy(desc(ranked.createdAt), desc(ranked.id));
  return rows.map(({ rn: _rn, ...row }) => row as FeedbackRow);
}

/** The contact's newest live NPS answer: one statement on feedback_contact_idx (contact, type, createdAt). */
export async function lastNps(db: Executor, contactId: string, scope?: SQL): Promise<Pick<FeedbackRow, 'score' | 'comment' | 'createdAt'> | undefined> {
  const rows = await db
    .select({ score: f.score, comment: f.comment, createdAt: f.createdAt })
    .from(f)
    .where(and(eq(f.contactId, contactId), eq(f.type, 'nps'), isNull(f.deletedAt), scope))
    .orderBy(desc(f.createdAt), desc(f.id))
    .limit(1);
  return rows[0];
}

const iso = (col: unknown) => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The contact's feedback as one branch of the timeline UNION (columns as TimelineSource.branch documents). */
export function timelineBranch(contactId: string, keyset: KeysetPredicate, fetch: number, scope?: SQL): SQL {
  return sql`
    SELECT 'feedback'::text, ${f.createdAt}, ${f.id}, 'feedback'::text, ${f.id},
           jsonb_build_object(
             'id', ${f.id}, 'createdAt', ${iso(f.createdAt)}, 'updatedAt', ${iso(f.updatedAt)}, 'version', ${f.version},
             'deletedAt', NULL, 'type', ${f.type}, 'score', ${f.score}, 'comment', ${f.comment}, 'contactId', ${f.contactId},
             'ticketId', ${f.ticketId}, 'ownerId', ${f.ownerId}, 'teamId', ${f.teamId}),
           NULL::jsonb, NULL::jsonb
      FROM ${f}
     WHERE ${f.contactId} = ${contactId}::uuid AND ${f.deletedAt} IS NULL ${scope ? sql`AND ${scope}` : sql``}
           ${keyset(f.createdAt, 'feedback', f.id)}
     ORDER BY ${f.createdAt} DESC, ${f.id} DESC
     LIMIT ${fetch}`;
}
