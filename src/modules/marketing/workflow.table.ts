import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid, boolean } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, recordColumns, ts } from '../../platform/db/columns.js';

export const WORKFLOW_ACTION_TYPES = [
  'create_task', 'assign_owner', 'add_tag', 'update_field', 'send_email', 'call_webhook', 'enroll_in_campaign',
] as const;
export type WorkflowActionType = (typeof WORKFLOW_ACTION_TYPES)[number];

/** on an event of the change feed, or every N minutes for each contact the conditions (segment rules) select */
export type WorkflowTrigger = { event: string } | { schedule: { everyMinutes: number } };

export interface WorkflowAction {
  type: WorkflowActionType;
  params: Record<string, unknown>;
}

/** Automation (API.md §5 Marketing; resource `config`): on a change-feed event matching the trigger, when the conditions hold, run the actions. */
export const workflows = pgTable(
  'workflows',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    description: text('description'),
    enabled: boolean('enabled').notNull().default(true),
    trigger: jsonb('trigger').$type<WorkflowTrigger>().notNull(),
    /** a scheduled workflow's next pass (null for event triggers) */
    nextRunAt: ts('next_run_at'),
    /** event triggers: a filter over the event's record; schedule triggers: segment rules over contacts */
    conditions: jsonb('conditions').$type<Record<string, unknown> | null>(),
    actions: jsonb('actions').$type<WorkflowAction[]>().notNull(),
  },
  (t) => [
    index('workflows_created_idx').on(t.createdAt, t.id),
    index('workflows_due_idx').on(t.nextRunAt).where(sql`${t.nextRunAt} IS NOT NULL AND ${t.enabled} AND ${t.deletedAt} IS NULL`),
  ],
);

export const RUN_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface ActionResult {
  type: WorkflowActionType;
  status: 'succeeded' | 'failed' | 'skipped';
  detail: string;
  /** the record the action made or changed */
  entityId?: string | undefined;
}

/**
 * One workflow's run for one event: unique per (workflow, event), so a run happens at most once
 * whatever the number of processes; claimed `running` before any action, so a stopped process's run
 * is never repeated (it becomes `interrupted`).
 */
export const workflowRuns = pgTable(
  'workflow_runs',
  {
    id: idColumn(),
    workflowId: uuid('workflow_id').notNull().references(() => workflows.id),
    /** the triggering event; null for a scheduled pass (scheduledFor says which) */
    eventId: uuid('event_id'),
    scheduledFor: ts('scheduled_for'),
    eventType: text('event_type').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    /** 1 for a change made by a person or system; n + 1 for a change made by a workflow run of depth n */
    depth: integer('depth').notNull().default(1),
    status: text('status', { enum: RUN_STATUSES }).notNull().default('pending'),
    results: jsonb('results').$type<ActionResult[]>().notNull().default([]),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    uniqueIndex('workflow_runs_workflow_event_key').on(t.workflowId, t.eventId),
    // a scheduled pass runs once per contact, whatever the number of processes
    uniqueIndex('workflow_runs_scheduled_key').on(t.workflowId, t.scheduledFor, t.entityId).where(sql`${t.scheduledFor} IS NOT NULL`),
    index('workflow_runs_workflow_idx').on(t.workflowId, t.createdAt, t.id),
    index('workflow_runs_pending_idx').on(t.createdAt).where(sql`${t.status} = 'pending'`),
  ],
);

/** Round-robin state of assign_owner per workflow and team: who got the last record. */
export const workflowRoundRobin = pgTable('workflow_round_robin', {
  workflowId: uuid('workflow_id').notNull(),
  teamId: uuid('team_id').notNull(),
  lastUserId: uuid('last_user_id'),
}, (t) => [uniqueIndex('workflow_round_robin_key').on(t.workflowId, t.teamId)]);

export type WorkflowRow = typeof workflows.$inferSelect;
export type WorkflowInsert = typeof workflows.$inferInsert;
export type WorkflowRunRow = typeof workflowRuns.$inferSelect;
