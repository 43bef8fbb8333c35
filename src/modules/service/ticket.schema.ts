import { z } from 'zod';
import { CustomValues, Tags, Timestamp, Uuid, iso, recordFields } from '../../platform/http/common.schema.js';
import { Contact } from '../customer/index.js';
import { UserSummary } from '../identity/index.js';
import { TICKET_PRIORITIES } from './sla-policy.table.js';
import { TICKET_CHANNELS, TICKET_STATUSES, type TicketRow } from './ticket.table.js';

export const TicketStatus = z.enum(TICKET_STATUSES).meta({ id: 'TicketStatus' });
export const TicketPriority = z.enum(TICKET_PRIORITIES).meta({ id: 'TicketPriority' });
export const TicketChannel = z.enum(TICKET_CHANNELS).meta({ id: 'TicketChannel' });

/**
 * Fields the service computes. Declared (rather than left to `.strict()`) so a body carrying them is
 * told "is read-only", as id and version are, instead of "is not a known field".
 */
const readOnly = (what: string) => z.never({ error: 'is read-only' }).optional().describe(`read-only: ${what}`);

const writable = {
  subject: z.string().trim().min(1).max(500),
  description: z.string().max(100_000).nullable(),
  status: TicketStatus.describe('see the transition table in the README: closed is final, solved reopens to open'),
  priority: TicketPriority,
  channel: TicketChannel,
  requesterId: Uuid.describe('a live contact'),
  assigneeId: Uuid.nullable().describe('a user (the agent working the ticket)'),
  teamId: Uuid.nullable().describe('a live team (the queue the ticket is in)'),
  slaPolicyId: Uuid.nullable().describe('a live SLA policy; null (or absent on create) applies the default policy'),
  assignment: z.enum(['round_robin']).describe(
    'write-only: round_robin assigns the next active agent of teamId in turn (only without assigneeId)',
  ),
  tags: Tags,
  custom: CustomValues,
};

const computed = {
  firstResponseDueAt: readOnly('from the SLA policy'),
  resolutionDueAt: readOnly('from the SLA policy'),
  firstRespondedAt: readOnly('set by the first public comment of an agent'),
  solvedAt: readOnly('set when the ticket is solved'),
  closedAt: readOnly('set when the ticket is closed'),
  slaBreached: readOnly('set by the breach scheduler'),
  slaPausedAt: readOnly('set while pending'),
  slaPausedMinutes: readOnly('business minutes spent pending'),
  satisfactionScore: readOnly('POST /v1/tickets/:id/satisfaction'),
  satisfactionComment: readOnly('POST /v1/tickets/:id/satisfaction'),
  satisfactionAt: readOnly('POST /v1/tickets/:id/satisfaction'),
};

const requesterEmail = z.email().max(320).describe(
  'instead of requesterId: the live contact with this email, created on the fly when there is none',
);

export const TicketCreate = z
  .object({ ...writable, requesterEmail, ...computed })
  .partial()
  .required({ subject: true })
  .strict()
  .superRefine((v, c) => {
    if (v.requesterId === undefined && v.requesterEmail === undefined) {
      c.addIssue({ code: 'custom', path: ['requesterId'], message: 'is required (or requesterEmail)' });
    } else if (v.requesterId !== undefined && v.requesterEmail !== undefined) {
      c.addIssue({ code: 'custom', path: ['requesterEmail'], message: 'is not allowed together with requesterId' });
    }
  })
  .meta({ id: 'TicketCreate' });

export const TicketPatch = z
  .object({ ...writable, ...computed })
  .partial()
  .strict()
  .meta({ id: 'TicketPatch', description: 'JSON merge patch: null clears a field, absent leaves it; custom merges' });

export type TicketCreateInput = z.infer<typeof TicketCreate>;
export type TicketPatchInput = z.infer<typeof TicketPatch>;

export const Ticket = z
  .object({
    ...recordFields,
    subject: z.string(),
    description: z.string().nullable(),
    status: TicketStatus,
    priority: TicketPriority,
    channel: TicketChannel,
    requesterId: Uuid,
    assigneeId: Uuid.nullable(),
    teamId: Uuid.nullable(),
    slaPolicyId: Uuid.nullable(),
    firstResponseDueAt: Timestamp.nullable(),
    resolutionDueAt: Timestamp.nullable(),
    firstRespondedAt: Timestamp.nullable(),
    solvedAt: Timestamp.nullable(),
    closedAt: Timestamp.nullable(),
    slaBreached: z.boolean(),
    slaPausedAt: Timestamp.nullable().describe('since when the SLA clock stands still (while pending)'),
    slaPausedMinutes: z.number().int(),
    satisfactionScore: z.number().int().nullable(),
    satisfactionComment: z.string().nullable(),
    satisfactionAt: Timestamp.nullable(),
    tags: z.array(z.string()),
    custom: CustomValues,
    requester: Contact.nullable().optional().describe('with include=requester'),
    assignee: UserSummary.nullable().optional().describe('with include=assignee'),
  })
  .meta({ id: 'Ticket' });

export type TicketDto = z.infer<typeof Ticket>;

export const ticketIncludes = ['requester', 'assignee'] as const;
export const ticketFieldNames = Object.keys(Ticket.shape).filter((k) => !(ticketIncludes as readonly string[]).includes(k));

export const TicketList = z.object({ data: z.array(Ticket), nextCursor: z.string().nullable() }).meta({ id: 'TicketList' });

export const TicketSatisfaction = z
  .object({
    score: z.number().int().min(1).max(5).describe('CSAT 1–5'),
    comment: z.string().trim().min(1).max(10_000).nullable().optional(),
  })
  .strict()
  .meta({ id: 'TicketSatisfaction' });

export const TicketId = z.object({ id: Uuid });

export function toTicketDto(r: TicketRow): TicketDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    subject: r.subject,
    description: r.description,
    status: r.status,
    priority: r.priority,
    channel: r.channel,
    requesterId: r.requesterId,
    assigneeId: r.assigneeId,
    teamId: r.teamId,
    slaPolicyId: r.slaPolicyId,
    firstResponseDueAt: iso(r.firstResponseDueAt),
    resolutionDueAt: iso(r.resolutionDueAt),
    firstRespondedAt: iso(r.firstRespondedAt),
    solvedAt: iso(r.solvedAt),
    closedAt: iso(r.closedAt),
    slaBreached: r.slaBreached,
    slaPausedAt: iso(r.slaPausedAt),
    slaPausedMinutes: r.slaPausedMinutes,
    satisfactionScore: r.satisfactionScore,
    satisfactionComment: r.satisfactionComment,
    satisfactionAt: iso(r.satisfactionAt),
    tags: r.tags,
    custom: r.custom,
  };
}
