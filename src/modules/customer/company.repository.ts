import { type SQL, and, count, eq, getTableColumns, inArray, isNull, sql } from 'drizzle-orm';
import type { OwnedColumns } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { type CompanyInsert, type CompanyRow, companies } from './company.table.js';
import { searchCondition, searchTextOf } from './search.js';
import { companyNameKey } from './duplicate.repository.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const companyCollection: CollectionSpec = {
  id: { expr: companies.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: companies.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: companies.name, type: 'string', nullable: false, sortable: true },
    domain: { expr: companies.domain, type: 'string', nullable: true, sortable: true },
    industry: { expr: companies.industry, type: 'string', nullable: true, sortable: true },
    employees: { expr: companies.employees, type: 'integer', nullable: true, sortable: true },
    annualRevenue: { expr: companies.annualRevenue, type: 'decimal', nullable: true, sortable: true },
    currency: { expr: companies.currency, type: 'string', nullable: true },
    phone: { expr: companies.phone, type: 'string', nullable: true },
    tags: { expr: companies.tags, type: 'tags', nullable: false },
    ownerId: { expr: companies.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: companies.teamId, type: 'uuid', nullable: true },
    createdAt: { expr: companies.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: companies.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: companies.deletedAt, type: 'datetime', nullable: true },
  },
};

export const ownedColumns: OwnedColumns = { ownerId: companies.ownerId, teamId: companies.teamId };
export const companyCustomColumn = companies.custom;

export const companySortable = Object.entries(companyCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const companyFilterable = Object.keys(companyCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(companies.deletedAt));

/** Trigram-indexed match on the normalised name and domain (search.ts: Arabic and Latin folding). */
export const companySearch = (q: string): SQL => searchCondition(companies.searchText, q);

/** search_text as stored: written with every insert here, and by the service when name or domain change. */
export const companySearchText = (v: { name?: string | null; domain?: string | null }) => searchTextOf([v.name, v.domain]);

export async function findCompany(db: Executor, id: string, scope?: SQL): Promise<CompanyRow | undefined> {
  const rows = await db.select().from(companies).where(and(eq(companies.id, id), scope)).limit(1);
  return rows[0];
}

export async function findCompanies(db: Executor, ids: readonly string[], scope?: SQL): Promise<CompanyRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(companies).where(and(inArray(companies.id, [...ids]), isNull(companies.deletedAt), scope));
}

export async function lockCompany(tx: Executor, id: string): Promise<CompanyRow | undefined> {
  const rows = await tx.select().from(companies).where(eq(companies.id, id)).for('update');
  return rows[0];
}

export async function lockCompanyByDomain(tx: Executor, domain: string): Promise<CompanyRow | undefined> {
  const rows = await tx
    .select()
    .from(companies)
    .where(and(eq(companies.domain, domain), isNull(companies.deletedAt)))
    .for('update');
  return rows[0];
}

export async function listCompanies(
  db: Executor,
  list: CompiledList,
  o: { includeDeleted: boolean; scope?: SQL | undefined; search?: SQL | undefined; rank?: SQL | undefined },
): Promise<CompanyRow[]> {
  return db
    .select({ ...getTableColumns(companies), relevance: o.rank ?? sql`NULL` })
    .from(companies)
    .where(and(list.where, live(o.includeDeleted), o.scope, o.search))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function countCompanies(
  db: Executor,
  where: SQL | undefined,
  o: { includeDeleted: boolean; scope?: SQL | undefined; search?: SQL | undefined },
): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(companies)
    .where(and(where, live(o.includeDeleted), o.scope, o.search));
  return Number(rows[0]?.n ?? 0);
}

export async function insertCompany(tx: Executor, values: CompanyInsert): Promise<CompanyRow> {
  const rows = await tx.insert(companies).values({ ...values, searchText: companySearchText(values), nameKey: companyNameKey(values) }).returning();
  return rows[0] as CompanyRow;
}

/** Inserts unless a live company has the domain; undefined tells the caller someone else won the race. */
export async function insertCompanyUnlessDomainTaken(tx: Executor, values: CompanyInsert): Promise<CompanyRow | undefined> {
  const rows = await tx
    .insert(companies)
    .values({ ...values, searchText: companySearchText(values), nameKey: companyNameKey(values) })
    .onConflictDoNothing({ target: companies.domain, where: isNull(companies.deletedAt) })
    .returning();
  return rows[0];
}

export async function updateCompany(tx: Executor, id: string, values: Partial<CompanyInsert>): Promise<CompanyRow> {
  const rows = await tx
    .update(companies)
    .set({ ...values, version: sql`${companies.version} + 1`, updatedAt: sql`now()` })
    .where(eq(companies.id, id))
    .returning();
  return rows[0] as CompanyRow;
}
