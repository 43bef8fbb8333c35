import { z } from 'zod';
import { common, intervalParam } from './params.js';

// Contracts of the sales figures read from the deal stage history (docs/metrics.md "Stage duration",
// "Forecast accuracy").

const Window = {
  from: z.string().nullable().describe('start of the range (ISO instant); null: all time'),
  to: z.string().nullable().describe('end of the range, exclusive (ISO instant); null: up to now'),
  timeZone: z.string(),
};

export const StageDurationQuery = z.object({ ...common, pipelineId: z.uuid().optional().describe('Only this pipeline') }).strict();
export const ForecastAccuracyQuery = z.object({
  ...common,
  interval: intervalParam.describe('Length of each forecast period (default month); the forecast is taken as it stood at each period\'s start'),
}).strict();

export const StageDurationStage = z.object({
  stageId: z.string(), name: z.string(), position: z.number().int(),
  stays: z.number().int().describe('stays in the stage that ended (the deal moved on) in the range'),
  averageDays: z.number().nullable(),
  medianDays: z.number().nullable(),
  openDeals: z.number().int().describe('open deals in the stage now'),
}).meta({ id: 'SalesStageDurationStage' });
export const StageDuration = z.object({
  ...Window,
  pipelines: z.array(z.object({ pipelineId: z.string(), name: z.string(), stages: z.array(StageDurationStage) })),
}).meta({ id: 'SalesStageDuration' });

export const ForecastAccuracyRow = z.object({
  currency: z.string(),
  forecastDeals: z.number().int().describe('deals open at the period start, in an open stage, expected to close in the period'),
  forecastAmount: z.string().describe('their amounts'),
  weightedForecast: z.string().describe('their amounts × the probability of the stage they were in at the period start'),
  forecastWon: z.number().int().describe('of the forecast deals, those won by the period end'),
  wonDeals: z.number().int().describe('deals won in the period, forecast or not'),
  wonAmount: z.string(),
  accuracy: z.number().nullable().describe('wonAmount / weightedForecast; null when nothing was forecast'),
}).meta({ id: 'SalesForecastAccuracyRow' });
export const ForecastAccuracy = z.object({
  ...Window,
  interval: z.string(),
  byCurrency: z.array(ForecastAccuracyRow).describe('every period added up'),
  series: z.array(z.object({ period: z.string().describe('first day of the period (YYYY-MM-DD in timeZone)'), byCurrency: z.array(ForecastAccuracyRow) })),
}).meta({ id: 'SalesForecastAccuracy' });

export type StageDurationDto = z.infer<typeof StageDuration>;
export type ForecastAccuracyDto = z.infer<typeof ForecastAccuracy>;
export type ForecastAccuracyRowDto = z.infer<typeof ForecastAccuracyRow>;
