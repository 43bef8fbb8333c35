import { z } from 'zod';
import { common, intervalParam } from './params.js';
import { SALES_GROUP_BY } from './sales.repository.js';

// Contracts of the sales figures (docs/metrics.md "Sales"); the response shapes are what REST and GraphQL return.

const groupBy = z.enum(SALES_GROUP_BY).optional().describe('Also splits the figure per owner, pipeline or team id (null key: none)');

// no .meta({ id }) on querystrings: @fastify/swagger cannot resolve a querystring given as a $ref component
export const SalesQuery = z.object({ ...common, interval: intervalParam, groupBy }).strict();
export const FunnelQuery = z.object({ ...common, pipelineId: z.uuid().optional().describe('Only this pipeline') }).strict();
export const PlainQuery = z.object({ ...common }).strict();

export const Money = z.object({ currency: z.string(), amount: z.string() }).meta({ id: 'AnalyticsMoney' });

const Window = {
  from: z.string().nullable().describe('start of the range (ISO instant); null: all time'),
  to: z.string().nullable().describe('end of the range, exclusive (ISO instant); null: up to now'),
  timeZone: z.string(),
};
const Key = { key: z.string().nullable().describe('owner, pipeline or team id; null: none') };
const Period = { period: z.string().describe('first day of the bucket (YYYY-MM-DD in timeZone)') };

const winRateFields = {
  winRate: z.number().nullable().describe('won / (won + lost), 0–1; null when nothing closed'),
  won: z.number().int(),
  lost: z.number().int(),
};
export const WinRate = z.object({
  ...Window, ...winRateFields,
  groups: z.array(z.object({ ...Key, ...winRateFields })).optional(),
  series: z.array(z.object({ ...Period, ...winRateFields })).optional(),
}).meta({ id: 'SalesWinRate' });

const cycleFields = {
  count: z.number().int().describe('won deals counted'),
  averageDays: z.number().nullable(),
  medianDays: z.number().nullable(),
};
export const CycleLength = z.object({
  ...Window, ...cycleFields,
  groups: z.array(z.object({ ...Key, ...cycleFields })).optional(),
  series: z.array(z.object({ ...Period, ...cycleFields })).optional(),
}).meta({ id: 'SalesCycleLength' });

export const DealSizeRow = z.object({
  currency: z.string(), count: z.number().int(), total: z.string(), average: z.string(),
}).meta({ id: 'SalesDealSizeRow' });
export const DealSize = z.object({
  ...Window,
  byCurrency: z.array(DealSizeRow),
  groups: z.array(z.object({ ...Key, byCurrency: z.array(DealSizeRow) })).optional(),
  series: z.array(z.object({ ...Period, byCurrency: z.array(DealSizeRow) })).optional(),
}).meta({ id: 'SalesDealSize' });

export const Velocity = z.object({
  ...Window,
  byCurrency: z.array(z.object({
    currency: z.string(),
    openDeals: z.number().int().describe('open deals now'),
    won: z.number().int(),
    lost: z.number().int(),
    winRate: z.number().nullable(),
    averageWonAmount: z.string().nullable(),
    cycleDays: z.number().nullable(),
    velocityPerDay: z.string().nullable().describe('openDeals × winRate × averageWonAmount / cycleDays'),
  })),
}).meta({ id: 'SalesVelocity' });

export const FunnelStage = z.object({
  stageId: z.string(), name: z.string(), position: z.number().int(), kind: z.string(),
  count: z.number().int().describe('deals that reached this stage or a later one'),
  amount: z.array(Money),
  conversionFromPrevious: z.number().nullable().describe('count / previous stage count; null for the first stage or after 0'),
}).meta({ id: 'SalesFunnelStage' });
export const Funnel = z.object({
  ...Window,
  pipelines: z.array(z.object({ pipelineId: z.string(), name: z.string(), stages: z.array(FunnelStage) })),
}).meta({ id: 'SalesFunnel' });

const leadFields = { leads: z.number().int(), converted: z.number().int(), conversionRate: z.number().nullable() };
export const LeadSources = z.object({
  ...Window, ...leadFields,
  sources: z.array(z.object({ source: z.string().nullable(), ...leadFields })),
}).meta({ id: 'SalesLeadSources' });

export type WinRateDto = z.infer<typeof WinRate>;
export type CycleLengthDto = z.infer<typeof CycleLength>;
export type DealSizeDto = z.infer<typeof DealSize>;
export type DealSizeRowDto = z.infer<typeof DealSizeRow>;
export type VelocityDto = z.infer<typeof Velocity>;
export type FunnelDto = z.infer<typeof Funnel>;
export type LeadSourcesDto = z.infer<typeof LeadSources>;
