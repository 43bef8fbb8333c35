import { z } from 'zod';
import { Uuid, recordFields, iso } from '../../platform/http/common.schema.js';
import { COMMENT_AUTHOR_TYPES, COMMENT_VISIBILITIES, type TicketCommentRow } from './ticket.table.js';

export const CommentVisibility = z.enum(COMMENT_VISIBILITIES).meta({ id: 'TicketCommentVisibility' });
export const CommentAuthorType = z.enum(COMMENT_AUTHOR_TYPES).meta({ id: 'TicketCommentAuthorType' });

const readOnly = (what: string) => z.never({ error: 'is read-only' }).optional().describe(`read-only: ${what}`);

export const TicketCommentCreate = z
  .object({
    body: z.string().trim().min(1).max(100_000),
    visibility: CommentVisibility.describe('public: the conversation with the requester (default); internal: agents\' note'),
    fromRequester: z.boolean().describe(
      'true: the comment is the requester\'s own words, recorded by an agent (e-mail, phone); always public',
    ),
    ticketId: readOnly('from the path'),
    authorType: readOnly('user, api_key or contact (fromRequester)'),
    authorId: readOnly('the caller, or the requester'),
  })
  .partial()
  .required({ body: true })
  .strict()
  .meta({ id: 'TicketCommentCreate' });

export const TicketCommentPatch = z
  .object({
    body: z.string().trim().min(1).max(100_000),
    ticketId: readOnly('from the path'),
    visibility: readOnly('a public comment was seen; delete it instead'),
    authorType: readOnly('who wrote it'),
    authorId: readOnly('who wrote it'),
  })
  .partial()
  .strict()
  .meta({ id: 'TicketCommentPatch', description: 'only the body changes; a comment keeps its author and visibility' });

export type TicketCommentCreateInput = z.infer<typeof TicketCommentCreate>;

export const TicketComment = z
  .object({
    ...recordFields,
    ticketId: Uuid,
    body: z.string(),
    visibility: CommentVisibility,
    authorType: CommentAuthorType,
    authorId: Uuid.nullable(),
  })
  .meta({ id: 'TicketComment' });

export type TicketCommentDto = z.infer<typeof TicketComment>;

export const TicketCommentList = z
  .object({ data: z.array(TicketComment), nextCursor: z.string().nullable() })
  .meta({ id: 'TicketCommentList' });

export const TicketCommentIds = z.object({ id: Uuid, commentId: Uuid });

export function toTicketCommentDto(r: TicketCommentRow): TicketCommentDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    ticketId: r.ticketId,
    body: r.body,
    visibility: r.visibility,
    authorType: r.authorType,
    authorId: r.authorId,
  };
}
