import { z } from 'zod';
import { Uuid, ownershipFields, recordFields, iso } from '../../platform/http/common.schema.js';
import { SegmentRulesSchema } from './segment-rules.js';
import type { SegmentRow } from './segment.table.js';

const writable = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).nullable(),
  rules: SegmentRulesSchema,
  ownerId: Uuid.nullable(),
  teamId: Uuid.nullable(),
};

export const SegmentCreate = z.object(writable).partial().required({ name: true, rules: true }).strict().meta({ id: 'SegmentCreate' });
export const SegmentPatch = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'SegmentPatch', description: 'JSON merge patch; rules replace whole' });

export const Segment = z
  .object({
    ...recordFields,
    ...ownershipFields,
    name: z.string(),
    description: z.string().nullable(),
    rules: SegmentRulesSchema,
  })
  .meta({ id: 'Segment' });

export type SegmentDto = z.infer<typeof Segment>;
export const segmentFieldNames = Object.keys(Segment.shape);
export const SegmentList = z.object({ data: z.array(Segment), nextCursor: z.string().nullable() }).meta({ id: 'SegmentList' });
export const SegmentId = z.object({ id: Uuid });

export function toSegmentDto(r: SegmentRow): SegmentDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    ownerId: r.ownerId,
    teamId: r.teamId,
    name: r.name,
    description: r.description,
    rules: r.rules as SegmentDto['rules'],
  };
}
