import { z } from 'zod';
import { common } from './params.js';

// The one-call dashboard summary (docs/metrics.md "KPIs"): each figure for the range and for the
// previous range of equal length, with the relative change.

export const KpisQuery = z.object({ ...common }).strict();

export const Kpi = z.object({
  value: z.number().nullable(),
  previous: z.number().nullable().describe('the same figure over the previous period; null without one'),
  change: z.number().nullable().describe('(value − previous) / |previous|; null when previous is null or 0'),
}).meta({ id: 'Kpi' });

export const MoneyKpi = z.object({
  currency: z.string(),
  value: z.string().nullable(),
  previous: z.string().nullable(),
  change: z.number().nullable(),
}).meta({ id: 'MoneyKpi' });

export const SalesKpis = z.object({
  won: Kpi, lost: Kpi, winRate: Kpi, averageCycleDays: Kpi, newLeads: Kpi, leadConversionRate: Kpi,
  wonAmount: z.array(MoneyKpi), averageDealSize: z.array(MoneyKpi),
}).meta({ id: 'SalesKpis' });

export const CustomerKpis = z.object({
  newCustomers: Kpi, customers: Kpi, repeatPurchaseRate: Kpi, churnRate: Kpi,
  orders: Kpi,
  revenue: z.array(MoneyKpi), averageOrderValue: z.array(MoneyKpi),
}).meta({ id: 'CustomerKpis' });

export const ServiceKpis = z.object({
  ticketsCreated: Kpi, ticketsSolved: Kpi, medianFirstResponseMinutes: Kpi, medianResolutionMinutes: Kpi,
  medianFirstResponseBusinessMinutes: Kpi, medianResolutionBusinessMinutes: Kpi,
  firstResponseCompliance: Kpi, resolutionCompliance: Kpi, csat: Kpi, nps: Kpi,
}).meta({ id: 'ServiceKpis' });

export const MarketingKpis = z.object({
  campaigns: Kpi, sent: Kpi, delivered: Kpi, converted: Kpi,
  deliveryRate: Kpi, openRate: Kpi, clickRate: Kpi, conversionRate: Kpi, unsubscribeRate: Kpi,
  spend: z.array(MoneyKpi), revenue: z.array(MoneyKpi), costPerConversion: z.array(MoneyKpi),
}).meta({ id: 'MarketingKpis' });

export const Kpis = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  previousFrom: z.string().nullable(),
  previousTo: z.string().nullable(),
  timeZone: z.string(),
  asOf: z.string().describe('when these figures were computed: a summary is served again for up to 30 s (Cache-Control max-age says how much longer) to callers of the same role, scope and parameters'),
  sales: SalesKpis.nullable().describe('null for roles without sales figures'),
  customers: CustomerKpis.nullable().describe('null for roles without customer figures'),
  service: ServiceKpis.nullable().describe('null for roles without service figures'),
  marketing: MarketingKpis.nullable().describe('null for roles without marketing figures'),
}).meta({ id: 'Kpis' });

export type KpiDto = z.infer<typeof Kpi>;
export type MoneyKpiDto = z.infer<typeof MoneyKpi>;
export type KpisDto = z.infer<typeof Kpis>;
