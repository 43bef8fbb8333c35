import { z } from 'zod';
import { common } from './params.js';

// Contracts of the marketing figures (docs/metrics.md "Marketing").

export const MarketingQuery = z.object({ ...common }).strict();

const Window = { from: z.string().nullable(), to: z.string().nullable(), timeZone: z.string() };
const Money = z.object({ currency: z.string(), amount: z.string() }).meta({ id: 'AnalyticsMoneyAmount' });
const rate = (what: string) => z.number().nullable().describe(what);

const figures = {
  sent: z.number().int().describe('messages the SMTP server accepted'),
  delivered: z.number().int(), opened: z.number().int(), clicked: z.number().int(),
  converted: z.number().int(), unsubscribed: z.number().int(), bounced: z.number().int(),
  deliveryRate: rate('delivered / sent'),
  openRate: rate('opened / delivered'),
  clickRate: rate('clicked / delivered'),
  conversionRate: rate('converted / delivered'),
  unsubscribeRate: rate('unsubscribed / delivered'),
};

export const CampaignPerformance = z.object({
  id: z.string(), name: z.string(), channel: z.string(), status: z.string(),
  startedAt: z.string().describe('when it started sending, or was created when it never sent'),
  ...figures,
  spend: Money.nullable(),
  costPerConversion: Money.nullable().describe('spend / converted, in the spend\'s currency'),
  revenue: z.array(Money).describe('converted orders per currency'),
}).meta({ id: 'CampaignPerformance' });

export const MarketingCampaigns = z.object({
  ...Window,
  campaigns: z.array(CampaignPerformance),
  totals: z.object({
    ...figures,
    campaigns: z.number().int().describe('campaigns in the range'),
    spend: z.array(Money), revenue: z.array(Money),
    costPerConversion: z.array(Money).describe('per currency: spend of the campaigns paid in it / their conversions'),
  }),
}).meta({ id: 'MarketingCampaigns' });

export const AcquisitionCost = z.object({
  ...Window,
  newCustomers: z.number().int().describe('customers whose first counted order falls in the range'),
  spend: z.array(Money).describe('spend of the campaigns in the range, per currency'),
  costPerCustomer: z.array(Money).describe('spend / newCustomers per currency (absent with no new customer)'),
}).meta({ id: 'AcquisitionCost' });

export type MarketingCampaignsDto = z.infer<typeof MarketingCampaigns>;
export type AcquisitionCostDto = z.infer<typeof AcquisitionCost>;
