import type { RequestContext } from '../../platform/auth/actor.js';
import { scopeCondition } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { formatMoney } from '../../platform/http/money.js';
import { dealStageSummaries, deals } from '../pipeline/deal.table.js';
import { foldBy } from './figure-query.js';
import { MAX_BUCKETS, assertArea, num, numOrNull, parseParams, resolveRange } from './params.js';
import * as repo from './sales-history.repository.js';
import {
  ForecastAccuracyQuery, type ForecastAccuracyDto, type ForecastAccuracyRowDto, StageDurationQuery, type StageDurationDto,
} from './sales-history.schema.js';
import { windowOf } from './sales.service.js';

const money = (v: string | null, currency: string) => formatMoney(v ?? '0', currency) as string;
const rowOf = (r: repo.ForecastAccuracyRow): ForecastAccuracyRowDto => {
  const currency = r.currency as string;
  return {
    currency, forecastDeals: num(r.forecast_deals), forecastAmount: money(r.forecast_amount, currency),
    weightedForecast: money(r.weighted, currency), forecastWon: num(r.forecast_won),
    wonDeals: num(r.won_deals), wonAmount: money(r.won_amount, currency), accuracy: numOrNull(r.accuracy),
  };
};

/** Sales figures of the stage history, in the caller's deal scope (docs/metrics.md). */
export function createSalesHistoryAnalytics({ db }: { db: Executor }) {
  const scopeOf = (ctx: RequestContext, t: typeof deals | typeof dealStageSummaries = deals) =>
    scopeCondition(ctx.actor, assertArea(ctx.actor, 'sales'), { ownerId: t.ownerId, teamId: t.teamId });

  return {
    async stageDuration(ctx: RequestContext, raw: unknown): Promise<StageDurationDto> {
      const scope = scopeOf(ctx);
      const q = parseParams(StageDurationQuery, raw);
      const range = resolveRange(q);
      const rows = await repo.stageDuration(db, { range, scope, pipelineId: q.pipelineId });
      const pipelines = foldBy(rows, (r) => r.pipeline_id, (r) => ({ pipelineId: r.pipeline_id, name: r.pipeline_name, stages: [] as StageDurationDto['pipelines'][number]['stages'] }),
        (p, r) => p.stages.push({
          stageId: r.stage_id, name: r.stage_name, position: Number(r.position), stays: num(r.stays),
          averageDays: numOrNull(r.average), medianDays: numOrNull(r.median), openDeals: num(r.current),
        }));
      return { ...windowOf(range, q.timeZone), pipelines };
    },

    async forecastAccuracy(ctx: RequestContext, raw: unknown): Promise<ForecastAccuracyDto> {
      const scope = scopeOf(ctx);
      const q = parseParams(ForecastAccuracyQuery, raw);
      const range = resolveRange(q);
      const interval = q.interval ?? 'month';
      const rows = await repo.forecastAccuracy(db, { range, scope, summaryScope: scopeOf(ctx, dealStageSummaries), interval, timeZone: q.timeZone });
      const periods = rows.filter((r) => r.period !== null);
      if (new Set(periods.map((r) => r.period)).size > MAX_BUCKETS) {
        throw validationFailed([{ path: 'interval', message: `more than ${MAX_BUCKETS} periods: narrow from and to or take a longer interval` }]);
      }
      return {
        ...windowOf(range, q.timeZone), interval,
        byCurrency: rows.filter((r) => r.period === null && r.currency !== null).map(rowOf),
        series: foldBy(periods, (r) => r.period, (r) => ({ period: r.period as string, byCurrency: [] as ForecastAccuracyRowDto[] }),
          (p, r) => { if (r.currency !== null) p.byCurrency.push(rowOf(r)); }),
      };
    },
  };
}

export type SalesHistoryAnalytics = ReturnType<typeof createSalesHistoryAnalytics>;
