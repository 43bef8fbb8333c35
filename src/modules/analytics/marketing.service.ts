import type { RequestContext } from '../../platform/auth/actor.js';
import type { Executor } from '../../platform/db/client.js';
import { AppError } from '../../platform/errors/app-error.js';
import { formatMoney, minorUnits } from '../../platform/http/money.js';
import { mayRead, parseParams, ratio, resolveRange, assertArea } from './params.js';
import { windowOf } from './sales.service.js';
import * as repo from './marketing.repository.js';
import { type AcquisitionCostDto, MarketingQuery, type MarketingCampaignsDto } from './marketing.schema.js';

type Counts = Pick<repo.CampaignFigureRow, 'sent' | 'delivered' | 'opened' | 'clicked' | 'converted' | 'unsubscribed' | 'bounced'>;
const COUNTS = ['sent', 'delivered', 'opened', 'clicked', 'converted', 'unsubscribed', 'bounced'] as const;

const rates = (c: Counts) => ({
  ...Object.fromEntries(COUNTS.map((k) => [k, c[k]])) as Counts,
  deliveryRate: ratio(c.delivered, c.sent),
  openRate: ratio(c.opened, c.delivered),
  clickRate: ratio(c.clicked, c.delivered),
  conversionRate: ratio(c.converted, c.delivered),
  unsubscribeRate: ratio(c.unsubscribed, c.delivered),
});

/** Exact sums of decimal strings per currency (numeric(19,4): scaled to integers, never floats). */
function addTo(sums: Map<string, bigint>, currency: string, amount: string): void {
  const [int = '0', frac = ''] = amount.replace('-', '').split('.');
  const v = BigInt(int) * 10_000n + BigInt((frac + '0000').slice(0, 4));
  sums.set(currency, (sums.get(currency) ?? 0n) + (amount.startsWith('-') ? -v : v));
}
function moneyList(sums: Map<string, bigint>) {
  return [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([currency, v]) => {
    const abs = v < 0n ? -v : v;
    const text = `${v < 0n ? '-' : ''}${abs / 10_000n}.${(abs % 10_000n).toString().padStart(4, '0')}`;
    return { currency, amount: formatMoney(text, currency) as string };
  });
}

/**
 * Spend per conversion per currency: the spend of the campaigns paid in a currency over their
 * conversions, rounded half away from zero to the currency's minor units (spend is never negative).
 */
function costPerConversion(spend: Map<string, bigint>, converted: Map<string, number>) {
  return [...spend].filter(([c]) => (converted.get(c) ?? 0) > 0).sort(([a], [b]) => a.localeCompare(b)).map(([currency, v]) => {
    const digits = minorUnits(currency);
    const num = v * 10n ** BigInt(digits);
    const den = 10_000n * BigInt(converted.get(currency) ?? 1);
    const q = (2n * num + den) / (2n * den);
    const scale = 10n ** BigInt(digits);
    const amount = digits === 0 ? `${q}` : `${q / scale}.${(q % scale).toString().padStart(digits, '0')}`;
    return { currency, amount };
  });
}

export function createMarketingAnalytics({ db }: { db: Executor }) {
  return {
    /** Per campaign in the range and in total: sends, engagement, rates, spend, cost per conversion, revenue. */
    async campaigns(ctx: RequestContext, raw: unknown): Promise<MarketingCampaignsDto> {
      assertArea(ctx.actor, 'marketing');
      const q = parseParams(MarketingQuery, raw);
      const range = resolveRange(q);
      const rows = await repo.campaignFigures(db, range);
      const totals = Object.fromEntries(COUNTS.map((k) => [k, rows.reduce((n, r) => n + r[k], 0)])) as Counts;
      const spend = new Map<string, bigint>();
      const revenue = new Map<string, bigint>();
      const convertedBySpendCurrency = new Map<string, number>();
      for (const r of rows) {
        if (r.spend !== null && r.currency) {
          addTo(spend, r.currency, r.spend);
          convertedBySpendCurrency.set(r.currency, (convertedBySpendCurrency.get(r.currency) ?? 0) + r.converted);
        }
        for (const [cur, amount] of Object.entries(r.revenue ?? {})) addTo(revenue, cur, amount);
      }
      return {
        ...windowOf(range, q.timeZone),
        campaigns: rows.map((r) => ({
          id: r.id, name: r.name, channel: r.channel, status: r.status, startedAt: new Date(r.at).toISOString(),
          ...rates(r),
          spend: r.spend !== null && r.currency ? { currency: r.currency, amount: formatMoney(r.spend, r.currency) as string } : null,
          costPerConversion: r.cost !== null && r.currency ? { currency: r.currency, amount: formatMoney(r.cost, r.currency) as string } : null,
          revenue: Object.entries(r.revenue ?? {}).sort(([a], [b]) => a.localeCompare(b))
            .map(([currency, amount]) => ({ currency, amount: formatMoney(amount, currency) as string })),
        })),
        totals: {
          ...rates(totals), campaigns: rows.length, spend: moneyList(spend), revenue: moneyList(revenue),
          costPerConversion: costPerConversion(spend, convertedBySpendCurrency),
        },
      };
    },

    /** Campaign spend in the range per customer acquired in it (customers or marketing figures). */
    async acquisitionCost(ctx: RequestContext, raw: unknown): Promise<AcquisitionCostDto> {
      if (!mayRead(ctx.actor, 'marketing') && !mayRead(ctx.actor, 'customers')) {
        assertArea(ctx.actor, 'marketing');
        throw new AppError('forbidden', `The ${ctx.actor.role} role may not read acquisition cost`);
      }
      const q = parseParams(MarketingQuery, raw);
      const range = resolveRange(q);
      const r = await repo.acquisitionCost(db, range);
      return {
        ...windowOf(range, q.timeZone),
        newCustomers: r.newCustomers,
        spend: r.rows.map((x) => ({ currency: x.currency as string, amount: formatMoney(x.spend, x.currency) as string })),
        costPerCustomer: r.rows.filter((x) => x.cost !== null).map((x) => ({ currency: x.currency as string, amount: formatMoney(x.cost, x.currency) as string })),
      };
    },
  };
}

export type MarketingAnalytics = ReturnType<typeof createMarketingAnalytics>;
