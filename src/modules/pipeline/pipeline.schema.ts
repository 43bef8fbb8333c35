import { z } from 'zod';
import { Uuid, recordFields, iso } from '../../platform/http/common.schema.js';
import { STAGE_KINDS, type PipelineRow, type StageRow } from './pipeline.table.js';

export const StageKind = z.enum(STAGE_KINDS).meta({ id: 'StageKind' });

const stageWritable = {
  name: z.string().trim().min(1).max(200),
  probability: z.number().int().min(0).max(100),
  position: z.number().int().min(0).max(10_000),
  kind: StageKind,
};

export const MAX_STAGES = 50;

/** A new stage: `id` is generated (read-only), `position` defaults to its index, `kind` to open. */
export const StageCreate = z
  .object(stageWritable)
  .partial({ position: true, kind: true })
  .strict()
  .meta({ id: 'PipelineStageCreate' });

/**
 * One entry of the whole new stage list a PATCH sends: with `id` it changes that stage (absent fields
 * stay), without `id` it creates one (then `name` and `probability` are required, checked by the service).
 */
export const StagePatch = z
  .object({ id: Uuid, ...stageWritable })
  .partial()
  .strict()
  .meta({ id: 'PipelineStagePatch' });

export const PipelineCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    isDefault: z.boolean().optional(),
    stages: z.array(StageCreate).min(1).max(MAX_STAGES),
  })
  .strict()
  .meta({ id: 'PipelineCreate' });

export const PipelinePatch = z
  .object({
    name: z.string().trim().min(1).max(200),
    isDefault: z.boolean(),
    stages: z.array(StagePatch).min(1).max(MAX_STAGES).describe('the whole new stage list: listed ids change, new entries are created, missing stages are removed'),
  })
  .partial()
  .strict()
  .meta({ id: 'PipelinePatch', description: 'JSON merge patch of name and isDefault; stages, when present, replace the list' });

export type StageCreateInput = z.infer<typeof StageCreate>;
export type StagePatchInput = z.infer<typeof StagePatch>;
export type PipelineCreateInput = z.infer<typeof PipelineCreate>;
export type PipelinePatchInput = z.infer<typeof PipelinePatch>;

export const PipelineStage = z
  .object({ id: Uuid, name: z.string(), probability: z.number().int(), position: z.number().int(), kind: StageKind })
  .meta({ id: 'PipelineStage' });

export const Pipeline = z
  .object({ ...recordFields, name: z.string(), isDefault: z.boolean(), stages: z.array(PipelineStage) })
  .meta({ id: 'Pipeline' });

export type PipelineStageDto = z.infer<typeof PipelineStage>;
export type PipelineDto = z.infer<typeof Pipeline>;

export const PipelineList = z
  .object({ data: z.array(Pipeline), nextCursor: z.string().nullable() })
  .meta({ id: 'PipelineList' });

export const PipelineId = z.object({ id: Uuid });

export const pipelineFieldNames = Object.keys(Pipeline.shape);

export function toStageDto(s: StageRow): PipelineStageDto {
  return { id: s.id, name: s.name, probability: s.probability, position: s.position, kind: s.kind };
}

/** `stages` are the pipeline's live stages, already ordered by position. */
export function toPipelineDto(r: PipelineRow, stages: readonly StageRow[]): PipelineDto {
  return { id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt), name: r.name, isDefault: r.isDefault, stages: stages.map(toStageDto) };
}
