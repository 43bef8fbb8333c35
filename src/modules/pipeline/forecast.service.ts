import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, scopeCondition } from '../../platform/auth/permissions.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { issuesToFieldErrors } from '../../platform/errors/field-errors.js';
import { formatMoney, nonDecimalMinorUnitsJson } from '../../platform/http/money.js';
import { deals } from './deal.table.js';
import {
  type ForecastDto, type ForecastGroupDto, type ForecastInterval, type ForecastPeriodDto, ForecastQuery,
} from './forecast.schema.js';
import * as repo from './forecast.repository.js';

export const MAX_PERIODS = 120;


const STEP: Record<ForecastInterval, number> = { month: 1, quarter: 3 };

/** Months since year 0 of the period containing `day`. */
function periodIndex(day: string, interval: ForecastInterval): number {
  const y = Number(day.slice(0, 4));
  const m = Number(day.slice(5, 7)) - 1;
  return y * 12 + m - (m % STEP[interval]);
}

function dayOfIndex(months: number): string {
  const y = Math.floor(months / 12);
  const m = months % 12;
  return `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-01`;
}

type Money = Record<string, string>;
const emptyPeriod = (start: string, end: string): ForecastPeriodDto => ({
  start, end, count: 0, amount: {}, weightedAmount: {}, won: { count: 0, amount: {} },
});

/** Adds one SQL row's money to the maps; amounts without a currency cannot be attributed and are left out. */
function addMoney(row: repo.ForecastRow, amount: Money, weighted?: Money): void {
  if (!row.currency || row.amount === null) return;
  amount[row.currency] = formatMoney(row.amount, row.currency) as string;
  if (weighted && row.weighted !== null) weighted[row.currency] = formatMoney(row.weighted, row.currency) as string;
}

export function createForecastService({ db }: { db: Executor }) {
  /** The first and last period index, from the query or (for what it leaves out) from the data; undefined: no periods. */
  async function range(
    q: { from?: string | undefined; to?: string | undefined; interval: ForecastInterval }, scope: ReturnType<typeof scopeCondition>,
  ): Promise<{ first: number; last: number } | undefined> {
    let { from, to } = q;
    if (from && to && from > to) throw validationFailed([{ path: 'to', message: 'must not be before from' }]);
    if (!from || !to) {
      const data = await repo.forecastRange(db, scope);
      from ??= data.first ?? to;
      to ??= data.last ?? from;
      if (!from || !to) return undefined;
      // the data may lie wholly outside the one bound given: the range then shrinks to that bound
      if (from > to) {
        if (q.from) to = from;
        else from = to;
      }
    }
    const first = periodIndex(from, q.interval);
    const last = periodIndex(to, q.interval);
    const n = (last - first) / STEP[q.interval] + 1;
    if (n > MAX_PERIODS) {
      const path = q.from ? 'to' : 'from';
      throw validationFailed([{ path, message: `the range spans ${n} ${q.interval}s; at most ${MAX_PERIODS}: narrow from and to` }]);
    }
    return { first, last };
  }

  return {
    /**
     * Open deals by expected close date (count, amount and probability-weighted amount per currency)
     * against won deals by closing day, per calendar month or quarter (UTC). Periods are whole: the
     * first is the one containing `from`, so its figures include deals earlier in it than `from`.
     */
    async forecast(ctx: RequestContext, raw: unknown): Promise<ForecastDto> {
      const scope = scopeCondition(ctx.actor, assertCan(ctx.actor, 'forecast', 'read'), { ownerId: deals.ownerId, teamId: deals.teamId });
      const parsed = ForecastQuery.safeParse(raw ?? {});
      if (!parsed.success) throw validationFailed(issuesToFieldErrors(parsed.error.issues));
      const q = parsed.data;
      const totals: ForecastDto['totals'] = { count: 0, amount: {}, weightedAmount: {}, won: { count: 0, amount: {} } };
      const r = await range(q, scope);
      if (!r) return { interval: q.interval, from: null, to: null, periods: [], totals };

      const step = STEP[q.interval];
      const periods: ForecastPeriodDto[] = [];
      const byStart = new Map<string, ForecastPeriodDto>();
      const groups = new Map<string, Map<string | null, ForecastGroupDto>>();
      for (let i = r.first; i <= r.last; i += step) {
        const p = emptyPeriod(dayOfIndex(i), dayOfIndex(i + step));
        if (q.groupBy) p.groups = [];
        periods.push(p);
        byStart.set(p.start, p);
        groups.set(p.start, new Map());
      }
      const start = dayOfIndex(r.first);
      const end = dayOfIndex(r.last + step);
      const rows = await repo.forecastRows(db, { start, end, unit: q.interval, groupBy: q.groupBy, scope, minorUnits: nonDecimalMinorUnitsJson() });

      for (const row of rows) {
        const n = Number(row.n);
        const p = row.period ? byStart.get(row.period) : undefined;
        if (row.period && !p) continue; // cannot happen: the statement keeps to [start, end)
        if (row.part === 'won') {
          if (row.grouped) continue;
          const won = p ? p.won : totals.won;
          won.count += n;
          addMoney(row, won.amount);
        } else if (row.grouped && p) {
          const g = groups.get(p.start) as Map<string | null, ForecastGroupDto>;
          const group = g.get(row.key) ?? { key: row.key, count: 0, amount: {}, weightedAmount: {} };
          g.set(row.key, group);
          group.count += n;
          addMoney(row, group.amount, group.weightedAmount);
        } else {
          const target = p ?? totals;
          target.count += n;
          addMoney(row, target.amount, target.weightedAmount);
        }
      }
      if (q.groupBy) {
        for (const p of periods) {
          // by key, the "none" group last: a stable order for charts and tests
          p.groups = [...(groups.get(p.start)?.values() ?? [])].sort((a, b) =>
            a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1);
        }
      }
      return { interval: q.interval, from: start, to: end, periods, totals };
    },
  };
}

export type ForecastService = ReturnType<typeof createForecastService>;
