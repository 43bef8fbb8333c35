import { boolean, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { nullableSortExprs as nullsLast } from '../../platform/db/sort-keys.js';
import { sql } from 'drizzle-orm';
import { customColumn, recordColumns, ts } from '../../platform/db/columns.js';
import { slaPolicies, TICKET_PRIORITIES } from './sla-policy.table.js';

export const TICKET_STATUSES = ['new', 'open', 'pending', 'solved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const TICKET_CHANNELS = ['email', 'phone', 'chat', 'web', 'social', 'api'] as const;

export const tickets = pgTable(
  'tickets',
  {
    ...recordColumns(),
    subject: text('subject').notNull(),
    description: text('description'),
    status: text('status', { enum: TICKET_STATUSES }).notNull().default('new'),
    priority: text('priority', { enum: TICKET_PRIORITIES }).notNull().default('normal'),
    channel: text('channel', { enum: TICKET_CHANNELS }).notNull().default('api'),
    /** a contact; its foreign key is declared in migration 0013 (modules meet only through index.ts) */
    requesterId: uuid('requester_id').notNull(),
    assigneeId: uuid('assignee_id'),
    teamId: uuid('team_id'),
    slaPolicyId: uuid('sla_policy_id').references(() => slaPolicies.id),
    firstResponseDueAt: ts('first_response_due_at'),
    resolutionDueAt: ts('resolution_due_at'),
    firstRespondedAt: ts('first_responded_at'),
    solvedAt: ts('solved_at'),
    closedAt: ts('closed_at'),
    slaBreached: boolean('sla_breached').notNull().default(false),
    /** when the first-response / resolution breach was detected: each breach is announced once */
    firstResponseBreachedAt: ts('first_response_breached_at'),
    resolutionBreachedAt: ts('resolution_breached_at'),
    /** set while pending: the SLA clock is stopped since then */
    slaPausedAt: ts('sla_paused_at'),
    /** business minutes spent pending so far; due times are pushed back by them */
    slaPausedMinutes: integer('sla_paused_minutes').notNull().default(0),
    satisfactionScore: integer('satisfaction_score'),
    satisfactionComment: text('satisfaction_comment'),
    satisfactionAt: ts('satisfaction_at'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    custom: customColumn(),
    /** subject and description normalised by the customer module's search folding */
    searchText: text('search_text').notNull().default(''),
    /**
     * Business-time durations (analytics "Response times"), derived and kept by the business-time
     * refresher (ticket-business-times.ts): the key of the calendar they were measured in, and for each
     * the minutes and the instant measured to. A value whose calendar key or instant no longer matches
     * the ticket is stale and is measured again (by the refresher, and by analytics meanwhile).
     */
    businessCalendar: text('business_calendar'),
    businessFirstResponseMinutes: integer('business_first_response_minutes'),
    businessFirstResponseFor: ts('business_first_response_for'),
    businessResolutionMinutes: integer('business_resolution_minutes'),
    businessResolutionFor: ts('business_resolution_for'),
  },
  (t) => [
    index('tickets_created_idx').on(t.createdAt, t.id),
    // team performance (tickets solved, median first response per assignee or team): index-only
    index('tickets_team_figures_idx').on(t.createdAt, t.solvedAt, t.firstRespondedAt, t.assigneeId, t.teamId).where(sql`deleted_at IS NULL`),
    index('tickets_updated_idx').on(t.updatedAt, t.id),
    index('tickets_requester_idx').on(t.requesterId, t.createdAt),
    index('tickets_assignee_idx').on(t.assigneeId, t.status),
    index('tickets_team_idx').on(t.teamId, t.status),
    index('tickets_status_idx').on(t.status, t.priority),
    index('tickets_sla_policy_idx').on(t.slaPolicyId),
    // keyset sorts of API.md §2; nullable keys in the (IS NULL, coalesce) form of platform/db/sort-keys.ts
    index('tickets_subject_sort_idx').on(t.subject, t.id),
    index('tickets_status_sort_idx').on(t.status, t.id),
    index('tickets_priority_sort_idx').on(t.priority, t.id),
    index('tickets_channel_sort_idx').on(t.channel, t.id),
    index('tickets_satisfaction_sort_idx').on(...nullsLast(t.satisfactionScore, 'number'), t.id),
    index('tickets_first_response_due_sort_idx').on(...nullsLast(t.firstResponseDueAt, 'time'), t.id),
    index('tickets_resolution_due_sort_idx').on(...nullsLast(t.resolutionDueAt, 'time'), t.id),
    index('tickets_first_responded_sort_idx').on(...nullsLast(t.firstRespondedAt, 'time'), t.id),
    index('tickets_solved_sort_idx').on(...nullsLast(t.solvedAt, 'time'), t.id),
    index('tickets_closed_sort_idx').on(...nullsLast(t.closedAt, 'time'), t.id),
    index('tickets_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    // the breach scheduler's two scans: unmet, unannounced due times of running tickets
    index('tickets_first_response_due_idx').on(t.firstResponseDueAt)
      .where(sql`${t.firstRespondedAt} IS NULL AND ${t.firstResponseBreachedAt} IS NULL AND ${t.slaPausedAt} IS NULL AND ${t.deletedAt} IS NULL`),
    index('tickets_resolution_due_idx').on(t.resolutionDueAt)
      .where(sql`${t.solvedAt} IS NULL AND ${t.resolutionBreachedAt} IS NULL AND ${t.slaPausedAt} IS NULL AND ${t.deletedAt} IS NULL`),
    // Service analytics (docs/metrics.md "Indexes"), live tickets only. By creation, every column that
    // response times, SLA compliance and the stale business-time check read (as trailing keys: drizzle
    // has no INCLUDE), so those figures read this narrow index instead of the wide rows.
    index('tickets_live_created_idx').on(
      t.createdAt, t.firstRespondedAt, t.solvedAt, t.firstResponseDueAt, t.resolutionDueAt, t.firstResponseBreachedAt,
      t.resolutionBreachedAt, t.assigneeId, t.teamId, t.slaPolicyId, t.businessCalendar, t.businessFirstResponseFor,
      t.businessFirstResponseMinutes, t.businessResolutionFor, t.businessResolutionMinutes, t.id,
    ).where(sql`${t.deletedAt} IS NULL`),
    // the backlog: tickets solved in a range, and the open snapshot per status and priority
    index('tickets_live_solved_idx').on(t.solvedAt).where(sql`${t.deletedAt} IS NULL AND ${t.solvedAt} IS NOT NULL`),
    index('tickets_live_open_idx').on(t.status, t.priority)
      .where(sql`${t.deletedAt} IS NULL AND ${t.status} IN ('new', 'open', 'pending')`),
    // CSAT: ratings by the time they were given
    index('tickets_live_rated_idx').on(t.satisfactionAt, t.satisfactionScore)
      .where(sql`${t.deletedAt} IS NULL AND ${t.satisfactionScore} IS NOT NULL AND ${t.satisfactionAt} IS NOT NULL`),
  ],
);

export const COMMENT_VISIBILITIES = ['public', 'internal'] as const;
export const COMMENT_AUTHOR_TYPES = ['user', 'api_key', 'contact'] as const;

/** Comments on a ticket: public ones are the conversation with the requester, internal ones agents' notes. */
export const ticketComments = pgTable(
  'ticket_comments',
  {
    ...recordColumns(),
    ticketId: uuid('ticket_id').notNull().references(() => tickets.id),
    body: text('body').notNull(),
    visibility: text('visibility', { enum: COMMENT_VISIBILITIES }).notNull().default('public'),
    /** an agent (user or API key acting as one) or the requester (a contact) */
    authorType: text('author_type', { enum: COMMENT_AUTHOR_TYPES }).notNull(),
    authorId: uuid('author_id'),
  },
  (t) => [index('ticket_comments_ticket_idx').on(t.ticketId, t.createdAt, t.id)],
);

/** Round-robin state per team: who got the team's last auto-assigned ticket. */
export const ticketRoundRobin = pgTable('ticket_round_robin', {
  teamId: uuid('team_id').primaryKey(),
  lastAssigneeId: uuid('last_assignee_id'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export type TicketRow = typeof tickets.$inferSelect;
export type TicketCommentRow = typeof ticketComments.$inferSelect;
