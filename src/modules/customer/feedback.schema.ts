import { z } from 'zod';
import { Timestamp, Uuid, ownershipFields, recordFields, iso } from '../../platform/http/common.schema.js';
import { UserSummary } from '../identity/index.js';
import { Contact } from './contact.schema.js';
import { FEEDBACK_TYPES, type FeedbackRow } from './feedback.table.js';

export const FeedbackType = z.enum(FEEDBACK_TYPES).meta({ id: 'FeedbackType' });

/** The score scale of each kind of answer (API.md §5); the table's check constraint says the same. */
export const SCORE_RANGES = { nps: { min: 0, max: 10 }, csat: { min: 1, max: 5 }, ces: { min: 1, max: 7 } } as const;

const writable = {
  type: FeedbackType,
  score: z.number().int().describe('NPS 0–10, CSAT 1–5, CES 1–7'),
  comment: z.string().trim().min(1).max(10_000).nullable(),
  contactId: Uuid.describe('a live contact'),
  ticketId: Uuid.nullable().describe('the ticket the answer is about (a CSAT from POST /v1/tickets/:id/satisfaction carries it)'),
  ...ownershipFields,
};

export const FeedbackCreate = z
  .object(writable)
  .partial()
  .required({ type: true, score: true, contactId: true })
  .strict()
  .meta({ id: 'FeedbackCreate' });

export const FeedbackPatch = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'FeedbackPatch', description: 'JSON merge patch: null clears a field, absent leaves it; score is checked against the (new) type' });

export type FeedbackCreateInput = z.infer<typeof FeedbackCreate>;
export type FeedbackPatchInput = z.infer<typeof FeedbackPatch>;

export const Feedback = z
  .object({
    ...recordFields,
    type: FeedbackType,
    score: z.number().int(),
    comment: z.string().nullable(),
    contactId: Uuid,
    ticketId: Uuid.nullable(),
    ...ownershipFields,
    contact: Contact.nullable().optional().describe('with include=contact'),
    owner: UserSummary.nullable().optional().describe('with include=owner'),
  })
  .meta({ id: 'Feedback' });

export type FeedbackDto = z.infer<typeof Feedback>;

export const feedbackIncludes = ['contact', 'owner'] as const;
export const feedbackFieldNames = Object.keys(Feedback.shape).filter((k) => !(feedbackIncludes as readonly string[]).includes(k));

export const FeedbackList = z
  .object({ data: z.array(Feedback), nextCursor: z.string().nullable() })
  .meta({ id: 'FeedbackList' });

/** The contact's newest NPS answer, as the 360 view shows it. */
export const NpsAnswer = z
  .object({ score: z.number().int(), comment: z.string().nullable(), createdAt: Timestamp })
  .meta({ id: 'NpsAnswer' });

export type NpsAnswerDto = z.infer<typeof NpsAnswer>;

export function toFeedbackDto(r: FeedbackRow): FeedbackDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    type: r.type,
    score: r.score,
    comment: r.comment,
    contactId: r.contactId,
    ticketId: r.ticketId,
    ownerId: r.ownerId,
    teamId: r.teamId,
  };
}

export const FeedbackId = z.object({ id: Uuid });
