import { boolean, index, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { recordColumns } from '../../platform/db/columns.js';

export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

/** Opening hours of one weekday (0 = Sunday), local to the policy's time zone, `HH:MM` 24-hour. */
export interface BusinessHoursSpan { day: number; start: string; end: string }
export interface SlaTarget { priority: TicketPriority; firstResponseMinutes: number; resolutionMinutes: number }

/** SLA policies (API.md §5 Service): targets per priority, counted in the policy's business time. */
export const slaPolicies = pgTable(
  'sla_policies',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    /** IANA zone the business hours and holidays are read in */
    timeZone: text('time_zone').notNull().default('UTC'),
    /** null: around the clock */
    businessHours: jsonb('business_hours').$type<BusinessHoursSpan[] | null>(),
    /** local dates (YYYY-MM-DD) on which the clock does not run */
    holidays: text('holidays').array().notNull().default(sql`'{}'::text[]`),
    targets: jsonb('targets').$type<SlaTarget[]>().notNull(),
  },
  (t) => [
    index('sla_policies_created_idx').on(t.createdAt, t.id),
    // at most one live default policy
    uniqueIndex('sla_policies_default_key').on(t.isDefault).where(sql`${t.isDefault} AND ${t.deletedAt} IS NULL`),
  ],
);

export type SlaPolicyRow = typeof slaPolicies.$inferSelect;
