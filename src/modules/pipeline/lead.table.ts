import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { customColumn, ownershipColumns, recordColumns, ts } from '../../platform/db/columns.js';

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'unqualified', 'converted'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export const leads = pgTable(
  'leads',
  {
    ...recordColumns(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    email: text('email'),
    phone: text('phone'),
    companyName: text('company_name'),
    /** matches (or makes) the company on conversion, as email matches the contact */
    companyDomain: text('company_domain'),
    source: text('source'),
    status: text('status', { enum: LEAD_STATUSES }).notNull().default('new'),
    /** computed from the scoring rules; never written by clients */
    score: integer('score').notNull().default(0),
    ...ownershipColumns(),
    custom: customColumn(),
    searchText: text('search_text').notNull().default(''),
    convertedAt: ts('converted_at'),
    convertedContactId: uuid('converted_contact_id'),
    convertedCompanyId: uuid('converted_company_id'),
    convertedDealId: uuid('converted_deal_id'),
  },
  (t) => [
    index('leads_created_idx').on(t.createdAt, t.id),
    index('leads_updated_idx').on(t.updatedAt, t.id),
    index('leads_score_idx').on(t.score, t.id),
    index('leads_status_idx').on(t.status),
    index('leads_email_idx').on(t.email),
    index('leads_owner_idx').on(t.ownerId),
    index('leads_team_idx').on(t.teamId),
    index('leads_converted_contact_idx').on(t.convertedContactId),
    index('leads_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    index('leads_custom_idx').using('gin', sql`${t.custom} jsonb_path_ops`),
  ],
);

export const SCORING_RULE_KINDS = ['field', 'activity'] as const;

/**
 * How a lead's score is computed: the sum of the points of every enabled rule that applies.
 * A field rule applies when the lead matches `filter` (the §2 grammar as JSON); an activity rule adds
 * `points` per matching activity of the lead within the last `withinDays` days.
 */
export const scoringRules = pgTable(
  'scoring_rules',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    kind: text('kind', { enum: SCORING_RULE_KINDS }).notNull(),
    points: integer('points').notNull(),
    /** field rules: `{"<field>": {"<op>": value}}` over lead fields, as segments write it */
    filter: jsonb('filter').$type<Record<string, Record<string, unknown>>>(),
    activityType: text('activity_type'),
    activityDirection: text('activity_direction'),
    withinDays: integer('within_days'),
  },
  (t) => [index('scoring_rules_created_idx').on(t.createdAt, t.id)],
);

export type LeadRow = typeof leads.$inferSelect;
export type LeadInsert = typeof leads.$inferInsert;
export type ScoringRuleRow = typeof scoringRules.$inferSelect;
