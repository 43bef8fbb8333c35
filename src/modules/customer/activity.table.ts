import { sql } from 'drizzle-orm';
import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ownershipColumns, recordColumns, ts } from '../../platform/db/columns.js';
import { nullableSortExprs as nullsLast } from '../../platform/db/sort-keys.js';
import { companies } from './company.table.js';
import { contacts } from './contact.table.js';

export const ACTIVITY_TYPES = ['call', 'email', 'meeting', 'note', 'task', 'sms', 'chat', 'social', 'visit'] as const;
export const ACTIVITY_DIRECTIONS = ['inbound', 'outbound'] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export const activities = pgTable(
  'activities',
  {
    ...recordColumns(),
    type: text('type', { enum: ACTIVITY_TYPES }).notNull(),
    subject: text('subject'),
    body: text('body'),
    direction: text('direction', { enum: ACTIVITY_DIRECTIONS }),
    occurredAt: ts('occurred_at').notNull().defaultNow(),
    /** tasks only (the service refuses them on other types) */
    dueAt: ts('due_at'),
    completedAt: ts('completed_at'),
    contactId: uuid('contact_id').references(() => contacts.id),
    companyId: uuid('company_id').references(() => companies.id),
    // deal_id and lead_id reference the pipeline's tables through foreign keys declared in migration
    // 0010 (not here, so this file does not import another module). ticket_id gets its key when tickets land.
    dealId: uuid('deal_id'),
    leadId: uuid('lead_id'),
    ticketId: uuid('ticket_id'),
    ...ownershipColumns(),
    /** subject and body normalised by search.ts (`q`); written by the service on every write */
    searchText: text('search_text').notNull().default(''),
  },
  (t) => [
    // default sort (-occurredAt) and the keyset sorts of API.md §2
    index('activities_occurred_idx').on(t.occurredAt, t.id),
    index('activities_created_idx').on(t.createdAt, t.id),
    index('activities_due_sort_idx').on(...nullsLast(t.dueAt, 'time'), t.id),
    // a contact's or company's activities newest first (filters, timeline)
    index('activities_contact_idx').on(t.contactId, t.occurredAt),
    index('activities_company_idx').on(t.companyId, t.occurredAt),
    index('activities_deal_idx').on(t.dealId),
    index('activities_lead_idx').on(t.leadId),
    index('activities_ticket_idx').on(t.ticketId),
    // "my open tasks": owner = me AND type = task AND completed_at IS NULL, ordered by due time
    index('activities_owner_open_tasks_idx').on(t.ownerId, t.type, t.completedAt, t.dueAt),
    index('activities_team_idx').on(t.teamId),
    // team performance counts live activities per owner or team by occurredAt: index-only (the other
    // key columns only make it covering; drizzle-kit has no INCLUDE)
    index('activities_team_figures_idx').on(t.occurredAt, t.ownerId, t.teamId).where(sql`deleted_at IS NULL`),
    index('activities_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
  ],
);

export type ActivityRow = typeof activities.$inferSelect;
export type ActivityInsert = typeof activities.$inferInsert;
