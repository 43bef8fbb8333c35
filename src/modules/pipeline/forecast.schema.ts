import { z } from 'zod';

export const FORECAST_INTERVALS = ['month', 'quarter'] as const;
export const FORECAST_GROUP_BY = ['owner', 'pipeline', 'team'] as const;
export type ForecastInterval = (typeof FORECAST_INTERVALS)[number];
export type ForecastGroupBy = (typeof FORECAST_GROUP_BY)[number];

/** A calendar day that exists ("2026-02-30" does not). */
const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00.000Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'is not a calendar date');

export const ForecastQuery = z
  .object({
    from: Day.optional().describe('First day (YYYY-MM-DD); the forecast starts with the period containing it. Default: the earliest deal'),
    to: Day.optional().describe('Last day (YYYY-MM-DD); the forecast ends with the period containing it. Default: the latest deal'),
    interval: z.enum(FORECAST_INTERVALS).default('month'),
    groupBy: z.enum(FORECAST_GROUP_BY).optional().describe('Splits each period\'s open deals by owner, pipeline or team id'),
  })
  // no .meta({ id }): @fastify/swagger cannot resolve a querystring given as a $ref component
  .strict();

export type ForecastQueryInput = z.input<typeof ForecastQuery>;

/** `{"SAR": "1500.00", "KWD": "2.501"}`: never summed across currencies. */
export const MoneyByCurrency = z
  .record(z.string(), z.string())
  .meta({ id: 'MoneyByCurrency', description: 'Decimal strings keyed by ISO 4217 currency, in its minor units; currencies are never mixed' });

const Won = z.object({ count: z.number().int(), amount: MoneyByCurrency });

export const ForecastGroup = z
  .object({ key: z.string().nullable(), count: z.number().int(), amount: MoneyByCurrency, weightedAmount: MoneyByCurrency })
  .meta({ id: 'ForecastGroup' });

export const ForecastPeriod = z
  .object({
    start: z.string().describe('first day of the period (inclusive)'),
    end: z.string().describe('first day after the period (exclusive)'),
    count: z.number().int().describe('open deals expected to close in the period'),
    amount: MoneyByCurrency,
    weightedAmount: MoneyByCurrency.describe('amount × stage probability / 100, summed then rounded to the currency\'s minor units'),
    won: Won.describe('actuals: deals won (closedAt) in the period'),
    groups: z.array(ForecastGroup).optional().describe('with groupBy: the open deals per key (null key: none)'),
  })
  .meta({ id: 'ForecastPeriod' });

export const Forecast = z
  .object({
    interval: z.enum(FORECAST_INTERVALS),
    from: z.string().nullable().describe('start of the first period; null without periods'),
    to: z.string().nullable().describe('end (exclusive) of the last period; null without periods'),
    periods: z.array(ForecastPeriod),
    totals: z.object({ count: z.number().int(), amount: MoneyByCurrency, weightedAmount: MoneyByCurrency, won: Won }),
  })
  .meta({ id: 'Forecast' });

export type ForecastDto = z.infer<typeof Forecast>;
export type ForecastPeriodDto = z.infer<typeof ForecastPeriod>;
export type ForecastGroupDto = z.infer<typeof ForecastGroup>;
