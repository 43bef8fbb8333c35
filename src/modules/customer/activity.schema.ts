import { z } from 'zod';
import { Timestamp, Uuid, iso, ownershipFields, recordFields } from '../../platform/http/common.schema.js';
import { MAX_BATCH } from '../../platform/http/batch.js';
import { UserSummary } from '../identity/index.js';
import { Company } from './company.schema.js';
import { Contact } from './contact.schema.js';
import { ACTIVITY_DIRECTIONS, ACTIVITY_TYPES, type ActivityRow } from './activity.table.js';

export const ActivityType = z.enum(ACTIVITY_TYPES).meta({ id: 'ActivityType' });
export const ActivityDirection = z.enum(ACTIVITY_DIRECTIONS).meta({ id: 'ActivityDirection' });

/** Any ISO 8601 date-time with an offset; stored and answered in UTC with milliseconds. */
const Instant = z.iso.datetime({ offset: true });

const writable = {
  type: ActivityType,
  subject: z.string().trim().min(1).max(500).nullable(),
  body: z.string().max(100_000).nullable(),
  direction: ActivityDirection.nullable(),
  occurredAt: Instant.describe('when it happened; defaults to now'),
  dueAt: Instant.nullable().describe('tasks only: refused (400) on other types'),
  completedAt: Instant.nullable().describe('tasks only: refused (400) on other types; null = open'),
  contactId: Uuid.nullable(),
  companyId: Uuid.nullable(),
  dealId: Uuid.nullable().describe('not checked yet: the deals module does not exist'),
  leadId: Uuid.nullable().describe('not checked yet: the leads module does not exist'),
  ticketId: Uuid.nullable().describe('not checked yet: the tickets module does not exist'),
  ...ownershipFields,
};

export const ActivityCreate = z
  .object(writable)
  .partial()
  .required({ type: true })
  .strict()
  .meta({ id: 'ActivityCreate' });

export const ActivityPatch = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'ActivityPatch', description: 'JSON merge patch: null clears a field, absent leaves it' });

export type ActivityCreateInput = z.infer<typeof ActivityCreate>;
export type ActivityPatchInput = z.infer<typeof ActivityPatch>;

export const Activity = z
  .object({
    ...recordFields,
    type: ActivityType,
    subject: z.string().nullable(),
    body: z.string().nullable(),
    direction: ActivityDirection.nullable(),
    occurredAt: Timestamp,
    dueAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
    contactId: Uuid.nullable(),
    companyId: Uuid.nullable(),
    dealId: Uuid.nullable(),
    leadId: Uuid.nullable(),
    ticketId: Uuid.nullable(),
    ...ownershipFields,
    contact: Contact.nullable().optional().describe('with include=contact'),
    company: Company.nullable().optional().describe('with include=company'),
    owner: UserSummary.nullable().optional().describe('with include=owner'),
  })
  .meta({ id: 'Activity' });

export type ActivityDto = z.infer<typeof Activity>;

export const activityIncludes = ['contact', 'company', 'owner'] as const;
export const activityFieldNames = Object.keys(Activity.shape).filter((k) => !(activityIncludes as readonly string[]).includes(k));

export const ActivityList = z
  .object({ data: z.array(Activity), nextCursor: z.string().nullable() })
  .meta({ id: 'ActivityList' });

/** Activities have no natural key, so batches match by id only and there is no upsert. */
export const ActivityBatch = z
  .object({
    operation: z.enum(['create', 'update', 'delete']),
    idProperty: z.enum(['id']).optional().describe('How records are matched: id only'),
    records: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_BATCH),
    atomic: z.boolean().optional().describe('true: all records commit or none'),
  })
  .strict()
  .meta({ id: 'ActivityBatch' });

export function toActivityDto(r: ActivityRow): ActivityDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    type: r.type,
    subject: r.subject,
    body: r.body,
    direction: r.direction,
    occurredAt: r.occurredAt.toISOString(),
    dueAt: iso(r.dueAt),
    completedAt: iso(r.completedAt),
    contactId: r.contactId,
    companyId: r.companyId,
    dealId: r.dealId,
    leadId: r.leadId,
    ticketId: r.ticketId,
    ownerId: r.ownerId,
    teamId: r.teamId,
  };
}

export const ActivityId = z.object({ id: Uuid });
