import { z } from 'zod';
import { Uuid, recordFields, iso } from '../../platform/http/common.schema.js';
import { SCORING_RULE_KINDS, type ScoringRuleRow } from './lead.table.js';

// Values of activities (customer module, API.md §5): an activity rule counts activities of these.
export const ACTIVITY_TYPES = ['call', 'email', 'meeting', 'note', 'task', 'sms', 'chat', 'social', 'visit'] as const;
export const ACTIVITY_DIRECTIONS = ['inbound', 'outbound'] as const;

const RuleFilter = z
  .record(z.string(), z.record(z.string(), z.unknown()))
  .refine((f) => Object.keys(f).length > 0, 'needs at least one field')
  .describe('The §2 filter grammar as JSON over lead fields: {"source": {"eq": "webinar"}}, {"custom.tier": {"in": ["gold"]}}');

const writable = {
  name: z.string().trim().min(1).max(200),
  enabled: z.boolean().describe('default true'),
  kind: z.enum(SCORING_RULE_KINDS).describe('field: points when the lead matches filter; activity: points per matching activity'),
  points: z.number().int().min(-1000).max(1000).describe('may be negative'),
  filter: RuleFilter.nullable().describe('kind field only (required there)'),
  activityType: z.enum(ACTIVITY_TYPES).nullable().describe('kind activity only; absent = any type'),
  direction: z.enum(ACTIVITY_DIRECTIONS).nullable().describe('kind activity only; absent = either'),
  withinDays: z.number().int().min(1).max(3650).nullable().describe('kind activity only (required there): activities of the last N days count'),
};

export const ScoringRuleCreate = z
  .object(writable)
  .partial()
  .required({ name: true, kind: true, points: true })
  .strict()
  .meta({ id: 'ScoringRuleCreate' });

export const ScoringRulePatch = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'ScoringRulePatch', description: 'JSON merge patch; the result must still suit its kind' });

export type ScoringRuleCreateInput = z.infer<typeof ScoringRuleCreate>;
export type ScoringRulePatchInput = z.infer<typeof ScoringRulePatch>;

export const ScoringRule = z
  .object({
    ...recordFields,
    name: z.string(),
    enabled: z.boolean(),
    kind: z.enum(SCORING_RULE_KINDS),
    points: z.number().int(),
    filter: z.record(z.string(), z.record(z.string(), z.unknown())).nullable(),
    activityType: z.enum(ACTIVITY_TYPES).nullable(),
    direction: z.enum(ACTIVITY_DIRECTIONS).nullable(),
    withinDays: z.number().int().nullable(),
  })
  .meta({ id: 'ScoringRule' });

export type ScoringRuleDto = z.infer<typeof ScoringRule>;

export const ScoringRuleList = z
  .object({ data: z.array(ScoringRule), nextCursor: z.string().nullable() })
  .meta({ id: 'ScoringRuleList' });

export const ScoringRuleId = z.object({ id: Uuid });

export function toScoringRuleDto(r: ScoringRuleRow): ScoringRuleDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    name: r.name,
    enabled: r.enabled,
    kind: r.kind,
    points: r.points,
    filter: r.filter,
    activityType: r.activityType as ScoringRuleDto['activityType'],
    direction: r.activityDirection as ScoringRuleDto['direction'],
    withinDays: r.withinDays,
  };
}
