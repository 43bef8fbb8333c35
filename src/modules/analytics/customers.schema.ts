import { z } from 'zod';
import { currencyCode } from '../../platform/http/money.js';
import { RFM_SEGMENTS } from './customers.repository.js';
import { common, intervalParam } from './params.js';

// Contracts of the customer figures (docs/metrics.md "Customers").

export const CustomerQuery = z.object({ ...common }).strict();
export const CustomerSeriesQuery = z.object({ ...common, interval: intervalParam }).strict();
export const ChurnQuery = z.object({ ...common, interval: z.enum(['day', 'week', 'month', 'quarter']).optional().describe('Also churn per bucket against the bucket before') }).strict();
export const LifetimeQuery = z.object({
  ...common,
  lifespanYears: z.coerce.number().gt(0).max(100).default(3).describe('Expected customer lifespan in years for the predicted value (default 3)'),
}).strict();
export const RfmQuery = z.object({ ...common, currency: currencyCode.optional().describe('Only this currency') }).strict();

const Window = {
  from: z.string().nullable(),
  to: z.string().nullable(),
  timeZone: z.string(),
};
const Period = { period: z.string().describe('first day of the bucket (YYYY-MM-DD in timeZone)') };

export const OrderValueRow = z.object({
  currency: z.string(), orders: z.number().int(), revenue: z.string(), averageOrderValue: z.string(),
}).meta({ id: 'OrderValueRow' });
export const OrderValue = z.object({
  ...Window,
  byCurrency: z.array(OrderValueRow),
  series: z.array(z.object({ ...Period, byCurrency: z.array(OrderValueRow) })).optional(),
}).meta({ id: 'CustomersOrderValue' });

export const NewCustomers = z.object({
  ...Window,
  newCustomers: z.number().int().describe('customers whose first counted order falls in the range'),
  series: z.array(z.object({ ...Period, newCustomers: z.number().int() })).optional(),
}).meta({ id: 'CustomersNew' });

export const RepeatPurchase = z.object({
  ...Window,
  customers: z.number().int(),
  repeatCustomers: z.number().int().describe('customers with two or more counted orders in the range'),
  repeatRate: z.number().nullable(),
}).meta({ id: 'CustomersRepeatPurchase' });

export const Retention = z.object({
  ...Window,
  cohorts: z.array(z.object({
    cohort: z.string().describe('month of the first counted order, YYYY-MM in timeZone'),
    customers: z.number().int(),
    months: z.array(z.object({ month: z.number().int(), customers: z.number().int(), rate: z.number() })),
  })),
}).meta({ id: 'CustomersRetention' });

const churnFields = {
  customersAtStart: z.number().int().describe('customers with a counted order in the previous period'),
  churned: z.number().int().describe('of them, those with none in this period'),
  churnRate: z.number().nullable(),
};
export const Churn = z.object({
  ...Window,
  previousFrom: z.string().nullable(),
  ...churnFields,
  series: z.array(z.object({ ...Period, ...churnFields })).optional(),
}).meta({ id: 'CustomersChurn' });

export const LifetimeValue = z.object({
  ...Window,
  lifespanYears: z.number(),
  windowDays: z.number().nullable(),
  byCurrency: z.array(z.object({
    currency: z.string(),
    customers: z.number().int(),
    orders: z.number().int(),
    revenue: z.string(),
    averageOrderValue: z.string(),
    purchaseFrequency: z.number().nullable().describe('orders per customer per year'),
    historicalValue: z.string().describe('revenue / customers'),
    predictedValue: z.string().nullable().describe('averageOrderValue × purchaseFrequency × lifespanYears'),
  })),
}).meta({ id: 'CustomersLifetimeValue' });

export const Rfm = z.object({
  ...Window,
  byCurrency: z.array(z.object({
    currency: z.string(),
    customers: z.number().int(),
    segments: z.array(z.object({ segment: z.enum(RFM_SEGMENTS), customers: z.number().int() })),
  })),
}).meta({ id: 'CustomersRfm' });

export type OrderValueDto = z.infer<typeof OrderValue>;
export type NewCustomersDto = z.infer<typeof NewCustomers>;
export type RepeatPurchaseDto = z.infer<typeof RepeatPurchase>;
export type RetentionDto = z.infer<typeof Retention>;
export type ChurnDto = z.infer<typeof Churn>;
export type LifetimeValueDto = z.infer<typeof LifetimeValue>;
export type RfmDto = z.infer<typeof Rfm>;
