import { z } from 'zod';
import { Timestamp, Uuid, iso, recordFields } from '../../platform/http/common.schema.js';
import { EventPattern } from '../integration/index.js';
import { RUN_STATUSES, WORKFLOW_ACTION_TYPES, type WorkflowRow, type WorkflowRunRow } from './workflow.table.js';

// The params of each action type (API.md §5b "Workflow action params").
const ACTION_PARAMS = {
  create_task: z.strictObject({
    subject: z.string().trim().min(1).max(500),
    dueInMinutes: z.number().int().min(0).max(525_600).optional(),
    assigneeId: Uuid.optional().describe('the task\'s owner; default: the record\'s owner'),
  }),
  assign_owner: z.union([
    z.strictObject({ userId: Uuid }),
    z.strictObject({ teamId: Uuid, strategy: z.literal('round_robin') }),
  ]),
  add_tag: z.strictObject({ tag: z.string().trim().min(1).max(100) }),
  update_field: z.strictObject({
    field: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,62}(\.[A-Za-z][A-Za-z0-9_]{0,62})?$/, 'a field name or custom.<key>'),
    value: z.unknown(),
  }),
  send_email: z.strictObject({ subject: z.string().trim().min(1).max(500), content: z.string().min(1).max(500_000) }),
  call_webhook: z.strictObject({ url: z.url().max(2000) }),
  enroll_in_campaign: z.strictObject({ campaignId: Uuid }),
} as const;

export const WorkflowActionInput = z
  .strictObject({ type: z.enum(WORKFLOW_ACTION_TYPES), params: z.record(z.string(), z.unknown()).default({}) })
  .superRefine((a, c) => {
    const parsed = ACTION_PARAMS[a.type].safeParse(a.params);
    if (!parsed.success) for (const i of parsed.error.issues) c.addIssue({ ...i, path: ['params', ...i.path] } as never);
  })
  .meta({ id: 'WorkflowAction', description: 'create_task {subject, dueInMinutes?, assigneeId?}, assign_owner {userId} | {teamId, strategy: "round_robin"}, add_tag {tag}, update_field {field, value}, send_email {subject, content}, call_webhook {url}, enroll_in_campaign {campaignId}' });

const Trigger = z
  .union([
    z.strictObject({ event: EventPattern.describe('an event type of the change feed (contact.created) or <entity>.*') }),
    z.strictObject({ schedule: z.strictObject({ everyMinutes: z.number().int().min(5).max(43_200) }).describe('every N minutes (5 to 30 days), for each contact the conditions select') }),
  ])
  .meta({ id: 'WorkflowTrigger' });
const Conditions = z
  .record(z.string(), z.unknown())
  .nullable()
  .meta({
    id: 'WorkflowConditions',
    description: 'event triggers: {filter: {"<field>": {"<op>": value}}}, judged against the record the event carries; '
      + 'schedule triggers: segment rules over contacts ({filter, window?, and?, or?}, required)',
  });

const writable = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).nullable(),
  enabled: z.boolean(),
  trigger: Trigger,
  conditions: Conditions,
  actions: z.array(WorkflowActionInput).min(1).max(20),
};

export const WorkflowCreate = z.object(writable).partial().required({ name: true, trigger: true, actions: true }).strict().meta({ id: 'WorkflowCreate' });
export const WorkflowPatch = z.object(writable).partial().strict().meta({ id: 'WorkflowPatch', description: 'JSON merge patch; trigger, conditions and actions replace whole' });

export const Workflow = z
  .object({
    ...recordFields,
    name: z.string(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    trigger: z.union([z.object({ event: z.string() }), z.object({ schedule: z.object({ everyMinutes: z.number().int() }) })]),
    conditions: z.record(z.string(), z.unknown()).nullable(),
    nextRunAt: Timestamp.nullable().describe('a scheduled workflow\'s next pass'),
    actions: z.array(z.object({ type: z.enum(WORKFLOW_ACTION_TYPES), params: z.record(z.string(), z.unknown()) })),
  })
  .meta({ id: 'Workflow' });
export type WorkflowDto = z.infer<typeof Workflow>;
export const workflowFieldNames = Object.keys(Workflow.shape);
export const WorkflowList = z.object({ data: z.array(Workflow), nextCursor: z.string().nullable() }).meta({ id: 'WorkflowList' });
export const WorkflowId = z.object({ id: Uuid });

export const WorkflowRun = z
  .object({
    id: Uuid,
    workflowId: Uuid,
    eventId: Uuid.nullable().describe('null for a scheduled pass'),
    scheduledFor: Timestamp.nullable().describe('the scheduled pass this run belongs to'),
    eventType: z.string().describe('workflow.scheduled for a scheduled pass'),
    entityType: z.string(),
    entityId: Uuid,
    depth: z.number().int().describe('1: triggered by a person or system; n + 1: by a change a run of depth n made'),
    status: z.enum(RUN_STATUSES),
    results: z.array(z.object({
      type: z.enum(WORKFLOW_ACTION_TYPES), status: z.enum(['succeeded', 'failed', 'skipped']), detail: z.string(), entityId: Uuid.optional(),
    })),
    error: z.string().nullable(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: 'WorkflowRun' });
export type WorkflowRunDto = z.infer<typeof WorkflowRun>;
export const WorkflowRunList = z.object({ data: z.array(WorkflowRun), nextCursor: z.string().nullable() }).meta({ id: 'WorkflowRunList' });

export function toWorkflowDto(r: WorkflowRow): WorkflowDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    name: r.name,
    description: r.description,
    enabled: r.enabled,
    trigger: r.trigger,
    conditions: (r.conditions as Record<string, unknown> | null) ?? null,
    nextRunAt: iso(r.nextRunAt),
    actions: r.actions,
  };
}

export function toWorkflowRunDto(r: WorkflowRunRow): WorkflowRunDto {
  return {
    id: r.id, workflowId: r.workflowId, eventId: r.eventId, scheduledFor: iso(r.scheduledFor), eventType: r.eventType, entityType: r.entityType, entityId: r.entityId,
    depth: r.depth, status: r.status, results: r.results, error: r.error,
    createdAt: r.createdAt.toISOString(), startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt),
  };
}
