import { z } from 'zod';
import { common, intervalParam } from './params.js';
import { SERVICE_GROUP_BY } from './service.repository.js';

// Contracts of the service figures (docs/metrics.md "Service").

const groupBy = z.enum(SERVICE_GROUP_BY).optional().describe('Also splits the figure per assignee or team id (null key: none)');
export const ServiceQuery = z.object({ ...common, interval: intervalParam, groupBy }).strict();
export const ServicePlainQuery = z.object({ ...common }).strict();

const Window = { from: z.string().nullable(), to: z.string().nullable(), timeZone: z.string() };
const Key = { key: z.string().nullable().optional() };
const Period = { period: z.string().optional() };

export const DurationStats = z.object({
  count: z.number().int(),
  averageMinutes: z.number().nullable(),
  medianMinutes: z.number().nullable(),
  p90Minutes: z.number().nullable(),
}).meta({ id: 'DurationStats' });
export const BusinessTimes = z.object({ firstResponse: DurationStats, resolution: DurationStats })
  .describe('the same in business minutes of each ticket\'s SLA calendar (its policy, else the default one, else around the clock)')
  .meta({ id: 'BusinessTimes' });
const rtFields = { firstResponse: DurationStats, resolution: DurationStats, business: BusinessTimes };
export const ResponseTimes = z.object({
  ...Window, ...rtFields,
  groups: z.array(z.object({ ...Key, ...rtFields })).optional(),
  series: z.array(z.object({ ...Period, ...rtFields })).optional(),
}).meta({ id: 'ServiceResponseTimes' });

export const SlaPart = z.object({
  met: z.number().int(), breached: z.number().int(),
  compliance: z.number().nullable().describe('met / (met + breached)'),
}).meta({ id: 'SlaPart' });
const slaFields = { firstResponse: SlaPart, resolution: SlaPart };
export const SlaCompliance = z.object({
  ...Window, ...slaFields,
  groups: z.array(z.object({ ...Key, ...slaFields })).optional(),
  series: z.array(z.object({ ...Period, ...slaFields })).optional(),
}).meta({ id: 'ServiceSlaCompliance' });

export const Backlog = z.object({
  ...Window,
  open: z.number().int().describe('tickets new, open or pending now'),
  byStatus: z.array(z.object({ status: z.string(), count: z.number().int() })),
  byPriority: z.array(z.object({ priority: z.string(), count: z.number().int() })),
  created: z.number().int(),
  solved: z.number().int(),
}).meta({ id: 'ServiceBacklog' });

export const Satisfaction = z.object({
  ...Window,
  csat: z.object({ responses: z.number().int(), satisfied: z.number().int(), score: z.number().nullable(), averageRating: z.number().nullable() }),
  nps: z.object({
    responses: z.number().int(), promoters: z.number().int(), passives: z.number().int(), detractors: z.number().int(),
    score: z.number().nullable().describe('(promoters − detractors) / responses, −1 to 1'),
  }),
}).meta({ id: 'ServiceSatisfaction' });

export type ResponseTimesDto = z.infer<typeof ResponseTimes>;
export type SlaComplianceDto = z.infer<typeof SlaCompliance>;
export type BacklogDto = z.infer<typeof Backlog>;
export type SatisfactionDto = z.infer<typeof Satisfaction>;
