import type { z } from 'zod';
import type { RequestContext } from '../../platform/auth/actor.js';
import type { Executor } from '../../platform/db/client.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { formatMoney } from '../../platform/http/money.js';
import * as repo from './customers.repository.js';
import {
  type ChurnDto, ChurnQuery, CustomerQuery, CustomerSeriesQuery, type LifetimeValueDto, LifetimeQuery, type NewCustomersDto,
  type OrderValueDto, type RepeatPurchaseDto, type RetentionDto, type RfmDto, RfmQuery,
} from './customers.schema.js';
import { type PartRow, foldBy, runFigure } from './figure-query.js';
import { type Interval, MAX_BUCKETS, assertArea, num, numOrNull, parseParams, ratio, resolveRange } from './params.js';
import { windowOf } from './sales.service.js';

type ValueRow = PartRow & { currency: string | null; n: string; revenue: string | null; average: string | null };
const valuesOf = (rows: ValueRow[]) => rows.filter((r) => r.currency && num(r.n) > 0).map((r) => ({
  currency: r.currency as string, orders: num(r.n),
  revenue: formatMoney(r.revenue, r.currency) as string, averageOrderValue: formatMoney(r.average, r.currency) as string,
}));

const monthIndex = (ym: string) => Number(ym.slice(0, 4)) * 12 + Number(ym.slice(5, 7)) - 1;

export function createCustomerAnalytics({ db }: { db: Executor }) {
  /** Customer figures read every customer: no record scope applies (docs/metrics.md "Scope"). */
  function params<Q extends { from?: string | undefined; to?: string | undefined; timeZone: string; interval?: Interval | undefined }>(
    ctx: RequestContext, schema: z.ZodType<Q>, raw: unknown,
  ) {
    assertArea(ctx.actor, 'customers');
    const q = parseParams(schema, raw);
    const range = resolveRange(q);
    return { q, o: { range, interval: q.interval, timeZone: q.timeZone }, window: windowOf(range, q.timeZone) };
  }

  return {
    async orderValue(ctx: RequestContext, raw: unknown): Promise<OrderValueDto> {
      const { o, window } = params(ctx, CustomerSeriesQuery, raw);
      const parts = await runFigure<ValueRow>(db, repo.orderValueQuery(o));
      const out: OrderValueDto = { ...window, byCurrency: valuesOf(parts.total) };
      if (o.interval) {
        out.series = foldBy(parts.series, (r) => r.period, (r) => ({ period: r.period as string, rows: [] as ValueRow[] }), (t, r) => t.rows.push(r))
          .map((b) => ({ period: b.period, byCurrency: valuesOf(b.rows) }));
      }
      return out;
    },

    async newCustomers(ctx: RequestContext, raw: unknown): Promise<NewCustomersDto> {
      const { o, window } = params(ctx, CustomerSeriesQuery, raw);
      const parts = await runFigure<PartRow & { n: string }>(db, repo.newCustomersQuery(o));
      const out: NewCustomersDto = { ...window, newCustomers: num(parts.total[0]?.n) };
      if (o.interval) out.series = parts.series.map((r) => ({ period: r.period as string, newCustomers: num(r.n) }));
      return out;
    },

    async repeatPurchase(ctx: RequestContext, raw: unknown): Promise<RepeatPurchaseDto> {
      const { o, window } = params(ctx, CustomerQuery, raw);
      const r = await repo.repeatPurchase(db, o);
      const customers = num(r.customers);
      const repeatCustomers = num(r.repeat);
      return { ...window, customers, repeatCustomers, repeatRate: ratio(repeatCustomers, customers) };
    },

    async retention(ctx: RequestContext, raw: unknown): Promise<RetentionDto> {
      const { o, window } = params(ctx, CustomerQuery, raw);
      const rows = await repo.retention(db, o);
      const cohorts = foldBy(rows, (r) => r.cohort, (r) => ({ cohort: r.cohort, last: r.last, seen: new Map<number, number>() }), (c, r) => c.seen.set(Number(r.n), num(r.customers)));
      return {
        ...window,
        cohorts: cohorts.map((c) => {
          const size = c.seen.get(0) ?? 0;
          // every month up to the month of the latest counted order, months without orders as 0
          const span = monthIndex(c.last) - monthIndex(c.cohort);
          const months = Array.from({ length: span + 1 }, (_, n) => {
            const customers = c.seen.get(n) ?? 0;
            return { month: n, customers, rate: ratio(customers, size) ?? 0 };
          });
          return { cohort: c.cohort, customers: size, months };
        }),
      };
    },

    async churn(ctx: RequestContext, raw: unknown): Promise<ChurnDto> {
      const { o, window } = params(ctx, ChurnQuery, raw);
      const rows = await repo.churn(db, o);
      const fields = (r: repo.ChurnRow | undefined) => {
        const customersAtStart = num(r?.active);
        const churned = num(r?.churned);
        return { customersAtStart, churned, churnRate: ratio(churned, customersAtStart) };
      };
      const total = rows.find((r) => r.period === null);
      const lo = total?.lo ? new Date(total.lo) : undefined;
      const hi = total?.hi ? new Date(total.hi) : undefined;
      const out: ChurnDto = {
        ...window,
        from: lo?.toISOString() ?? null,
        to: hi?.toISOString() ?? null,
        previousFrom: lo && hi ? new Date(2 * lo.getTime() - hi.getTime()).toISOString() : null,
        ...fields(total),
      };
      if (o.interval) {
        const series = rows.filter((r) => r.period !== null);
        if (series.length > MAX_BUCKETS) throw validationFailed([{ path: 'interval', message: `more than ${MAX_BUCKETS} buckets: narrow from and to or take a longer interval` }]);
        out.series = series.map((r) => ({ period: r.period as string, ...fields(r) }));
      }
      return out;
    },

    async lifetimeValue(ctx: RequestContext, raw: unknown): Promise<LifetimeValueDto> {
      const { q, o, window } = params(ctx, LifetimeQuery, raw);
      const { lifespanYears } = q;
      const rows = await repo.lifetimeValue(db, { ...o, lifespanYears });
      return {
        ...window, lifespanYears, windowDays: numOrNull(rows[0]?.days),
        byCurrency: rows.map((r) => ({
          currency: r.currency, customers: num(r.customers), orders: num(r.orders),
          revenue: formatMoney(r.revenue, r.currency) as string,
          averageOrderValue: formatMoney(r.average, r.currency) as string,
          purchaseFrequency: numOrNull(r.frequency),
          historicalValue: formatMoney(r.historical, r.currency) as string,
          predictedValue: formatMoney(r.predicted, r.currency),
        })),
      };
    },

    async rfm(ctx: RequestContext, raw: unknown): Promise<RfmDto> {
      const { q, o, window } = params(ctx, RfmQuery, raw);
      const rows = await repo.rfm(db, { ...o, currency: q.currency });
      const byCurrency = foldBy(rows, (r) => r.currency, (r) => ({ currency: r.currency, counts: new Map<string, number>() }), (c, r) => c.counts.set(r.segment, num(r.n)));
      return {
        ...window,
        byCurrency: byCurrency.map((c) => ({
          currency: c.currency,
          customers: [...c.counts.values()].reduce((a, b) => a + b, 0),
          segments: repo.RFM_SEGMENTS.map((segment) => ({ segment, customers: c.counts.get(segment) ?? 0 })),
        })),
      };
    },
  };
}

export type CustomerAnalytics = ReturnType<typeof createCustomerAnalytics>;
