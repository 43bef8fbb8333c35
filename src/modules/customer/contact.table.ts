import { boolean, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { customColumn, ownershipColumns, recordColumns, ts } from '../../platform/db/columns.js';
import { type AddressValue, companies } from './company.table.js';
import { nullableSortExprs as nullsLast } from '../../platform/db/sort-keys.js';

export const LIFECYCLE_STAGES = ['subscriber', 'lead', 'opportunity', 'customer', 'churned', 'other'] as const;

export const contacts = pgTable(
  'contacts',
  {
    ...recordColumns(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    email: text('email'),
    phone: text('phone'),
    additionalEmails: text('additional_emails').array().notNull().default(sql`'{}'::text[]`),
    additionalPhones: text('additional_phones').array().notNull().default(sql`'{}'::text[]`),
    jobTitle: text('job_title'),
    companyId: uuid('company_id').references(() => companies.id),
    address: jsonb('address').$type<AddressValue>(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    lifecycleStage: text('lifecycle_stage', { enum: LIFECYCLE_STAGES }),
    source: text('source'),
    externalIds: jsonb('external_ids').$type<Record<string, string>>().notNull().default({}),
    emailOptIn: boolean('email_opt_in').notNull().default(false),
    smsOptIn: boolean('sms_opt_in').notNull().default(false),
    consentSource: text('consent_source'),
    /** when emailOptIn / smsOptIn last changed (consent records need the time, not only the state) */
    emailOptInAt: ts('email_opt_in_at'),
    smsOptInAt: ts('sms_opt_in_at'),
    /** set when this contact was merged into another (soft-deleted then): GET answers 404 naming it */
    mergedIntoId: uuid('merged_into_id'),
    /** set by a GDPR erasure: personal fields are gone, the row stays (soft-deleted) for aggregates */
    erasedAt: ts('erased_at'),
    /** first and last name normalised by search.ts, for duplicate detection by trigram similarity */
    nameKey: text('name_key').notNull().default(''),
    ...ownershipColumns(),
    custom: customColumn(),
    /** names, emails and phones normalised by search.ts; written by the service on every write */
    searchText: text('search_text').notNull().default(''),
  },
  (t) => [
    // Unique among live contacts only: a deleted contact must not block its email forever.
    uniqueIndex('contacts_email_live_key').on(t.email).where(sql`${t.deletedAt} IS NULL`),
    index('contacts_created_idx').on(t.createdAt, t.id),
    index('contacts_updated_idx').on(t.updatedAt, t.id),
    // Keyset sorts of API.md §2: one index per sortable field, in the (IS NULL, coalesce) form of a
    // nullable key (platform/db/sort-keys.ts) so a cursor starts a range scan at any depth.
    index('contacts_last_name_sort_idx').on(...nullsLast(t.lastName, 'text'), t.id),
    index('contacts_first_name_sort_idx').on(...nullsLast(t.firstName, 'text'), t.id),
    index('contacts_email_sort_idx').on(...nullsLast(t.email, 'text'), t.id),
    index('contacts_job_title_sort_idx').on(...nullsLast(t.jobTitle, 'text'), t.id),
    index('contacts_lifecycle_stage_sort_idx').on(...nullsLast(t.lifecycleStage, 'text'), t.id),
    // No (lifecycle_stage, lastName order) composite: at 1 M the planner walked contacts_last_name_sort_idx
    // filtering the stage even for an 8 % stage (docs/performance.md), so it would cost every write for nothing.
    index('contacts_company_idx').on(t.companyId),
    index('contacts_owner_idx').on(t.ownerId),
    index('contacts_team_idx').on(t.teamId),
    index('contacts_tags_idx').using('gin', t.tags),
    index('contacts_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    // q of several words (contact-search.ts): two keys a word of the search text (contact_search_keys_of,
    // migration 0023). A 128 kB pending list like the name key's: every search reads it whole.
    index('contacts_search_keys_idx').using('gin', sql`contact_search_keys_of(${t.searchText})`).with({ gin_pending_list_limit: 128 }),
    // Every write looks its name up here (duplicate candidates), and a lookup reads the whole pending list:
    // 37 ms a lookup with the default 4 MB during bulk writes. 128 kB keeps lookups short; inserts cost the
    // same as with the default (measured: 20 k rows in 1.2 s either way; 4.8 s with no pending list at all).
    index('contacts_name_key_trgm_idx').using('gin', sql`${t.nameKey} gin_trgm_ops`).with({ gin_pending_list_limit: 128 }),
    index('contacts_phone_idx').on(t.phone),
    // Duplicate detection finds contacts whose additional emails or phones hold another's (duplicate.repository.ts).
    // fastupdate off: every write looks these up, and a pending list (unsorted, up to 4 MB) is read whole by
    // every lookup; the arrays are mostly empty, so direct insertion costs ~15 µs a row (measured).
    index('contacts_additional_emails_idx').using('gin', t.additionalEmails).with({ fastupdate: 'off' }),
    index('contacts_additional_phones_idx').using('gin', t.additionalPhones).with({ fastupdate: 'off' }),
    // custom-field filters compile to jsonb containment (custom-values.ts), served by this one index
    index('contacts_custom_idx').using('gin', sql`${t.custom} jsonb_path_ops`),
  ],
);

export type ContactRow = typeof contacts.$inferSelect;
export type ContactInsert = typeof contacts.$inferInsert;
