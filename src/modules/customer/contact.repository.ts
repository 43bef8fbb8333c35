import { type SQL, and, count, desc, eq, getTableColumns, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { OwnedColumns } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { searchRank } from './search.js';
import { contactSearchCondition } from './contact-search.js';
import { type ContactInsert, type ContactRow, LIFECYCLE_STAGES, contacts } from './contact.table.js';
import { externalIds } from '../../platform/db/external-ids.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

const c = contacts;
export const contactCollection: CollectionSpec = {
  id: { expr: c.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: c.id, type: 'uuid', nullable: false, sortable: true },
    firstName: { expr: c.firstName, type: 'string', nullable: true, sortable: true },
    lastName: { expr: c.lastName, type: 'string', nullable: true, sortable: true },
    email: { expr: c.email, type: 'string', nullable: true, sortable: true },
    phone: { expr: c.phone, type: 'string', nullable: true },
    jobTitle: { expr: c.jobTitle, type: 'string', nullable: true, sortable: true },
    companyId: { expr: c.companyId, type: 'uuid', nullable: true },
    tags: { expr: c.tags, type: 'tags', nullable: false },
    lifecycleStage: { expr: c.lifecycleStage, type: 'enum', values: LIFECYCLE_STAGES, nullable: true, sortable: true },
    source: { expr: c.source, type: 'string', nullable: true },
    emailOptIn: { expr: c.emailOptIn, type: 'boolean', nullable: false },
    smsOptIn: { expr: c.smsOptIn, type: 'boolean', nullable: false },
    ownerId: { expr: c.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: c.teamId, type: 'uuid', nullable: true },
    createdAt: { expr: c.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: c.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: c.deletedAt, type: 'datetime', nullable: true },
  },
};

export const ownedColumns: OwnedColumns = { ownerId: c.ownerId, teamId: c.teamId };
export const contactCustomColumn = c.custom;

export const contactSortable = Object.entries(contactCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const contactFilterable = Object.keys(contactCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(c.deletedAt));

export const contactSearch = (q: string): SQL => contactSearchCondition(c.searchText, q);

const byIdQuery = (db: Executor) => db.select().from(c).where(eq(c.id, sql.placeholder('id'))).limit(1).prepare('contact_by_id');
// GET by id is the hottest read: building its SQL with drizzle cost more CPU than PostgreSQL spent
// answering it. Prepared once per database handle (a named statement: each pooled connection parses
// it once), it is only bound and executed per request. Every role reads contacts unscoped (API.md §4);
// a scoped read still builds its query.
const byIdPrepared = new WeakMap<Executor, ReturnType<typeof byIdQuery>>();

export async function findContact(db: Executor, id: string, scope?: SQL): Promise<ContactRow | undefined> {
  if (scope) return (await db.select().from(c).where(and(eq(c.id, id), scope)).limit(1))[0];
  let query = byIdPrepared.get(db);
  if (!query) byIdPrepared.set(db, (query = byIdQuery(db)));
  return (await query.execute({ id }))[0];
}

export async function lockContact(tx: Executor, id: string): Promise<ContactRow | undefined> {
  const rows = await tx.select().from(c).where(eq(c.id, id)).for('update');
  return rows[0];
}

export async function lockContactByEmail(tx: Executor, email: string): Promise<ContactRow | undefined> {
  const rows = await tx.select().from(c).where(and(eq(c.email, email), isNull(c.deletedAt))).for('update');
  return rows[0];
}

export type ListedContact = ContactRow & { relevance: string | null };

export async function listContacts(
  db: Executor,
  list: CompiledList,
  o: { includeDeleted: boolean; scope?: SQL | undefined; q?: string | undefined },
): Promise<ListedContact[]> {
  const rank = o.q ? searchRank(c.searchText, o.q) : sql<null>`NULL`;
  return db
    .select({ ...getTableColumns(c), relevance: sql<string>`${rank}` })
    .from(c)
    .where(and(list.where, live(o.includeDeleted), o.scope, o.q ? contactSearch(o.q) : undefined))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countContacts(
  db: Executor,
  where: SQL | undefined,
  o: { includeDeleted: boolean; scope?: SQL | undefined; q?: string | undefined },
): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(c)
    .where(and(where, live(o.includeDeleted), o.scope, o.q ? contactSearch(o.q) : undefined));
  return Number(rows[0]?.n ?? 0);
}

/** Live contacts of several companies, at most `perCompany` each (newest first): one query for a loader. */
export async function contactsOfCompanies(db: Executor, companyIds: readonly string[], perCompany: number, scope?: SQL): Promise<ContactRow[]> {
  if (companyIds.length === 0) return [];
  const rn = sql<number>`row_number() over (partition by ${c.companyId} order by ${c.createdAt} desc, ${c.id} desc)`.as('rn');
  const ranked = db
    .select({ ...getTableColumns(c), rn })
    .from(c)
    .where(and(inArray(c.companyId, [...companyIds]), isNull(c.deletedAt), scope))
    .as('ranked');
  const rows = await db.select().from(ranked).where(lte(ranked.rn, perCompany)).orderBy(desc(ranked.createdAt), desc(ranked.id));
  return rows.map(({ rn: _rn, ...row }) => row as ContactRow);
}

export async function insertContact(tx: Executor, values: ContactInsert): Promise<ContactRow> {
  const rows = await tx.insert(c).values(values).returning();
  return rows[0] as ContactRow;
}

/** Inserts unless a live contact has the email; undefined tells the caller someone else won the race. */
export async function insertContactUnlessEmailTaken(tx: Executor, values: ContactInsert): Promise<ContactRow | undefined> {
  const rows = await tx.insert(c).values(values).onConflictDoNothing({ target: c.email, where: isNull(c.deletedAt) }).returning();
  return rows[0];
}

export async function updateContact(tx: Executor, id: string, values: Partial<ContactInsert>): Promise<ContactRow> {
  const rows = await tx
    .update(c)
    .set({ ...values, version: sql`${c.version} + 1`, updatedAt: sql`now()` })
    .where(eq(c.id, id))
    .returning();
  return rows[0] as ContactRow;
}

// ------------------------------------------------------------------ set-based writes of a batch

/** The contacts a batch's keys address, locked in id order (so two batches never lock crosswise). */
export async function lockContactsByKeys(tx: Executor, idProperty: string, keys: readonly string[]): Promise<Map<string, ContactRow>> {
  if (!keys.length) return new Map();
  if (idProperty === 'email') {
    const rows = await tx.select().from(c).where(and(inArray(c.email, [...keys]), isNull(c.deletedAt))).orderBy(c.id).for('update');
    return new Map(rows.map((r) => [r.email as string, r]));
  }
  if (idProperty === 'id') {
    const rows = await tx.select().from(c).where(inArray(c.id, [...keys])).orderBy(c.id).for('update');
    return new Map(rows.filter((r) => !r.deletedAt).map((r) => [r.id, r]));
  }
  const system = idProperty.slice('externalId.'.length);
  const rows = await tx
    .select({ key: externalIds.externalId, row: c })
    .from(externalIds)
    .innerJoin(c, eq(c.id, externalIds.entityId))
    .where(and(eq(externalIds.entityType, 'contact'), eq(externalIds.system, system), inArray(externalIds.externalId, [...keys])))
    .orderBy(c.id)
    .for('update', { of: c });
  return new Map(rows.filter((r) => !r.row.deletedAt).map((r) => [r.key, r.row]));
}
