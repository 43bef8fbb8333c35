import { index, integer, jsonb, numeric, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { customColumn, ownershipColumns, recordColumns } from '../../platform/db/columns.js';
import { nullableSortExprs as nullsLast } from '../../platform/db/sort-keys.js';

export interface AddressValue {
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  region?: string | null;
  postalCode?: string | null;
  country?: string | null;
}

export const companies = pgTable(
  'companies',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    domain: text('domain'),
    industry: text('industry'),
    employees: integer('employees'),
    annualRevenue: numeric('annual_revenue', { precision: 19, scale: 4 }),
    currency: text('currency'),
    phone: text('phone'),
    address: jsonb('address').$type<AddressValue>(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    externalIds: jsonb('external_ids').$type<Record<string, string>>().notNull().default({}),
    ...ownershipColumns(),
    custom: customColumn(),
    /** name and domain normalised by search.ts; written by the service on every write */
    searchText: text('search_text').notNull().default(''),
    /** set when this company was merged into another (soft-deleted then) */
    mergedIntoId: uuid('merged_into_id'),
    /** the name normalised by search.ts, for duplicate detection by trigram similarity */
    nameKey: text('name_key').notNull().default(''),
  },
  (t) => [
    // Unique among live companies only: a deleted company must not block its domain forever.
    uniqueIndex('companies_domain_live_key').on(t.domain).where(sql`${t.deletedAt} IS NULL`),
    index('companies_created_idx').on(t.createdAt, t.id),
    index('companies_updated_idx').on(t.updatedAt, t.id),
    index('companies_name_idx').on(t.name, t.id),
    // keyset sorts of the nullable sortable fields, in the (IS NULL, coalesce) form of platform/db/sort-keys.ts
    index('companies_domain_sort_idx').on(...nullsLast(t.domain, 'text'), t.id),
    index('companies_industry_sort_idx').on(...nullsLast(t.industry, 'text'), t.id),
    index('companies_employees_sort_idx').on(...nullsLast(t.employees, 'number'), t.id),
    index('companies_annual_revenue_sort_idx').on(...nullsLast(t.annualRevenue, 'number'), t.id),
    index('companies_owner_idx').on(t.ownerId),
    index('companies_team_idx').on(t.teamId),
    index('companies_tags_idx').using('gin', t.tags),
    index('companies_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
    index('companies_domain_trgm_idx').using('gin', sql`${t.domain} gin_trgm_ops`),
    index('companies_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    index('companies_name_key_trgm_idx').using('gin', sql`${t.nameKey} gin_trgm_ops`),
    // Custom-field filters compile eq/in to containment (custom @> '{"tier":"gold"}'), which this
    // one index serves for every key, present or future, without per-definition DDL (custom-values.ts).
    index('companies_custom_idx').using('gin', sql`${t.custom} jsonb_path_ops`),
  ],
);

export type CompanyRow = typeof companies.$inferSelect;
export type CompanyInsert = typeof companies.$inferInsert;
