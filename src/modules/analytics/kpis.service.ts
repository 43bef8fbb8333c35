import type { z } from 'zod';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { createLimiter, createResultCache } from './shared-results.js';
import type { CustomerAnalytics } from './customers.service.js';
import type { MarketingAnalytics } from './marketing.service.js';
import { type KpiDto, type KpisDto, KpisQuery, type MoneyKpiDto } from './kpis.schema.js';
import { mayRead, parseParams, resolveRange } from './params.js';
import type { SalesAnalytics } from './sales.service.js';
import type { ServiceAnalytics } from './service.service.js';

const change = (value: number | null, previous: number | null): number | null =>
  value === null || previous === null || previous === 0 ? null : (value - previous) / Math.abs(previous);

const kpi = (value: number | null, previous: number | null | undefined): KpiDto => ({ value, previous: previous ?? null, change: change(value, previous ?? null) });

/** Per-currency money in both periods, currencies of either period listed, never mixed. */
function moneyKpis(cur: { currency: string; v: string }[], prev: { currency: string; v: string }[] | undefined): MoneyKpiDto[] {
  const currencies = [...new Set([...cur.map((r) => r.currency), ...(prev ?? []).map((r) => r.currency)])].sort();
  return currencies.map((currency) => {
    const value = cur.find((r) => r.currency === currency)?.v ?? null;
    const previous = prev ? (prev.find((r) => r.currency === currency)?.v ?? null) : null;
    return { currency, value, previous, change: value !== null && previous !== null ? change(Number(value), Number(previous)) : null };
  });
}

interface Sources { sales: SalesAnalytics; customers: CustomerAnalytics; service: ServiceAnalytics; marketing: MarketingAnalytics }

const MARKETING_COUNTS = ['sent', 'delivered', 'converted'] as const;
const MARKETING_RATES = ['deliveryRate', 'openRate', 'clickRate', 'conversionRate', 'unsubscribeRate'] as const;

/** Figure statements of KPI summaries running at once in this process (the pool has DATABASE_POOL_MAX, 20 by default). */
export const KPI_PARALLEL_FIGURES = 4;
/** How long a finished summary is served again to callers of the same scope and parameters. */
export const KPI_CACHE_SECONDS = 30;

export function createKpis({ sales, customers, service, marketing }: Sources, o: { cacheSeconds?: number } = {}) {
  const limited = createLimiter(KPI_PARALLEL_FIGURES);
  const cache = createResultCache<KpisDto>((o.cacheSeconds ?? KPI_CACHE_SECONDS) * 1000);

  async function servicePart(ctx: RequestContext, p: Record<string, string>) {
    const [times, sla, backlog, sat] = await Promise.all([
      limited(() => service.responseTimes(ctx, p)), limited(() => service.slaCompliance(ctx, p)),
      limited(() => service.backlog(ctx, p)), limited(() => service.satisfaction(ctx, p)),
    ]);
    return { times, sla, backlog, sat };
  }
  async function salesPart(ctx: RequestContext, p: Record<string, string>) {
    const [cycle, win, size, leads] = await Promise.all([
      limited(() => sales.cycleLength(ctx, p)), limited(() => sales.winRate(ctx, p)),
      limited(() => sales.dealSize(ctx, p)), limited(() => sales.leadSources(ctx, p)),
    ]);
    return { win, cycle, size, leads };
  }
  async function customerPart(ctx: RequestContext, p: Record<string, string>) {
    // costliest first (see compute)
    const [repeat, fresh, value, churn] = await Promise.all([
      limited(() => customers.repeatPurchase(ctx, p)), limited(() => customers.newCustomers(ctx, p)),
      limited(() => customers.orderValue(ctx, p)), limited(() => customers.churn(ctx, p)),
    ]);
    return { value, fresh, repeat, churn };
  }

  /** Callers who see the same figures: the role (its sections) and, unless it reads every record, who they are. */
  function audienceOf(ctx: RequestContext): string {
    const scope = assertCan(ctx.actor, 'analytics', 'read');
    return scope === 'all' ? `${ctx.actor.role}` : `${ctx.actor.role}:${scope}:${ctx.actor.id}:${[...ctx.actor.teamIds].sort().join(',')}`;
  }

  return {
    /**
     * The summary, served from the per-process cache when the same audience asked for the same
     * parameters within KPI_CACHE_SECONDS (`asOf` says when it was computed; `maxAge` how long it
     * may still be served).
     */
    async kpis(ctx: RequestContext, raw: unknown): Promise<KpisDto & { maxAge: number }> {
      const audience = audienceOf(ctx);
      const q = parseParams(KpisQuery, raw);
      const key = JSON.stringify([audience, q.from ?? null, q.to ?? null, q.timeZone]);
      const r = await cache(key, () => compute(ctx, q));
      return { ...r.value, maxAge: r.remainingSeconds };
    },
  };

  /**
   * The dashboard figures of the range and of the previous range of equal length (none when the
   * range has no start: all time has no "before"). Sections a role may not read are null.
   */
  async function compute(ctx: RequestContext, q: z.infer<typeof KpisQuery>): Promise<KpisDto> {
    const asOf = new Date();
    const range = resolveRange(q);
    const to = range.to ?? asOf;
    const cur = { ...(range.from && { from: range.from.toISOString() }), ...(range.to && { to: range.to.toISOString() }), timeZone: q.timeZone };
    const prevRange = range.from ? { from: new Date(2 * range.from.getTime() - to.getTime()), to: range.from } : undefined;
    const prev = prevRange && { from: prevRange.from.toISOString(), to: prevRange.to.toISOString(), timeZone: q.timeZone };

    const out: KpisDto = {
      from: cur.from ?? null, to: cur.to ?? null, previousFrom: prev?.from ?? null, previousTo: prev?.to ?? null,
      timeZone: q.timeZone, asOf: asOf.toISOString(), sales: null, customers: null, service: null, marketing: null,
    };
    // the sections run side by side; the limiter bounds how many of their statements run at once and
    // starts them in the order asked, so the costliest go first (at 1 M rows: the customer figures, then
    // response times, then sales; docs/performance.md) and the short ones fill the slots around them
    const sections: Promise<void>[] = [];
    if (mayRead(ctx.actor, 'customers')) sections.push((async () => {
      const [c, p] = await Promise.all([customerPart(ctx, cur), prev ? customerPart(ctx, prev) : undefined]);
      const orders = (s: typeof c) => s.value.byCurrency.reduce((n, r) => n + r.orders, 0);
      const revenue = (s: typeof c) => s.value.byCurrency.map((r) => ({ currency: r.currency, v: r.revenue }));
      const aov = (s: typeof c) => s.value.byCurrency.map((r) => ({ currency: r.currency, v: r.averageOrderValue }));
      out.customers = {
        newCustomers: kpi(c.fresh.newCustomers, p?.fresh.newCustomers), customers: kpi(c.repeat.customers, p?.repeat.customers),
        repeatPurchaseRate: kpi(c.repeat.repeatRate, p?.repeat.repeatRate), churnRate: kpi(c.churn.churnRate, p?.churn.churnRate),
        orders: kpi(orders(c), p && orders(p)),
        revenue: moneyKpis(revenue(c), p && revenue(p)), averageOrderValue: moneyKpis(aov(c), p && aov(p)),
      };
    })());
    if (mayRead(ctx.actor, 'service')) sections.push((async () => {
      const [c, p] = await Promise.all([servicePart(ctx, cur), prev ? servicePart(ctx, prev) : undefined]);
      out.service = {
        ticketsCreated: kpi(c.backlog.created, p?.backlog.created), ticketsSolved: kpi(c.backlog.solved, p?.backlog.solved),
        medianFirstResponseMinutes: kpi(c.times.firstResponse.medianMinutes, p?.times.firstResponse.medianMinutes),
        medianResolutionMinutes: kpi(c.times.resolution.medianMinutes, p?.times.resolution.medianMinutes),
        medianFirstResponseBusinessMinutes: kpi(c.times.business.firstResponse.medianMinutes, p?.times.business.firstResponse.medianMinutes),
        medianResolutionBusinessMinutes: kpi(c.times.business.resolution.medianMinutes, p?.times.business.resolution.medianMinutes),
        firstResponseCompliance: kpi(c.sla.firstResponse.compliance, p?.sla.firstResponse.compliance),
        resolutionCompliance: kpi(c.sla.resolution.compliance, p?.sla.resolution.compliance),
        csat: kpi(c.sat.csat.score, p?.sat.csat.score), nps: kpi(c.sat.nps.score, p?.sat.nps.score),
      };
    })());
    if (mayRead(ctx.actor, 'sales')) sections.push((async () => {
      const [c, p] = await Promise.all([salesPart(ctx, cur), prev ? salesPart(ctx, prev) : undefined]);
      const won = (s: typeof c) => s.size.byCurrency.map((r) => ({ currency: r.currency, v: r.total }));
      const avg = (s: typeof c) => s.size.byCurrency.map((r) => ({ currency: r.currency, v: r.average }));
      out.sales = {
        won: kpi(c.win.won, p?.win.won), lost: kpi(c.win.lost, p?.win.lost), winRate: kpi(c.win.winRate, p?.win.winRate),
        averageCycleDays: kpi(c.cycle.averageDays, p?.cycle.averageDays),
        newLeads: kpi(c.leads.leads, p?.leads.leads), leadConversionRate: kpi(c.leads.conversionRate, p?.leads.conversionRate),
        wonAmount: moneyKpis(won(c), p && won(p)), averageDealSize: moneyKpis(avg(c), p && avg(p)),
      };
    })());
    if (mayRead(ctx.actor, 'marketing')) sections.push((async () => {
      const [c, p] = await Promise.all([limited(() => marketing.campaigns(ctx, cur)), prev ? limited(() => marketing.campaigns(ctx, prev)) : undefined]);
      const money = (list: { currency: string; amount: string }[]) => list.map((r) => ({ currency: r.currency, v: r.amount }));
      out.marketing = {
        campaigns: kpi(c.totals.campaigns, p?.totals.campaigns),
        ...Object.fromEntries(MARKETING_COUNTS.map((f) => [f, kpi(c.totals[f], p?.totals[f])])) as Record<(typeof MARKETING_COUNTS)[number], KpiDto>,
        ...Object.fromEntries(MARKETING_RATES.map((f) => [f, kpi(c.totals[f], p?.totals[f])])) as Record<(typeof MARKETING_RATES)[number], KpiDto>,
        spend: moneyKpis(money(c.totals.spend), p && money(p.totals.spend)),
        revenue: moneyKpis(money(c.totals.revenue), p && money(p.totals.revenue)),
        costPerConversion: moneyKpis(money(c.totals.costPerConversion), p && money(p.totals.costPerConversion)),
      };
    })());
    await Promise.all(sections);
    return out;
  }
}

export type KpisService = ReturnType<typeof createKpis>;
