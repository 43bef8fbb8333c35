import type { RequestContext } from '../../platform/auth/actor.js';
import { scopeCondition } from '../../platform/auth/permissions.js';
import type { Executor } from '../../platform/db/client.js';
import { formatMoney } from '../../platform/http/money.js';
import { dealStageSummaries, deals } from '../pipeline/deal.table.js';
import { leads } from '../pipeline/lead.table.js';
import { type PartRow, foldBy, runFigure, shape } from './figure-query.js';
import { type Range, assertArea, num, numOrNull, parseParams, ratio, resolveRange } from './params.js';
import * as repo from './sales.repository.js';
import {
  type CycleLengthDto, type DealSizeDto, type DealSizeRowDto, type FunnelDto, FunnelQuery, type LeadSourcesDto, PlainQuery,
  SalesQuery, type VelocityDto, type WinRateDto,
} from './sales.schema.js';

type Figure = 'winRate' | 'cycleLength' | 'dealSize' | 'velocity' | 'funnel' | 'leadSources';

export const windowOf = (r: Range, timeZone: string) => ({ from: r.from?.toISOString() ?? null, to: r.to?.toISOString() ?? null, timeZone });

type WinRow = PartRow & { won: string; lost: string };
const winOf = (rows: WinRow[]) => {
  const won = num(rows[0]?.won);
  const lost = num(rows[0]?.lost);
  return { winRate: ratio(won, won + lost), won, lost };
};
type CycleRow = PartRow & { n: string; average: number | null; median: number | null };
const cycleOf = (rows: CycleRow[]) => ({ count: num(rows[0]?.n), averageDays: numOrNull(rows[0]?.average), medianDays: numOrNull(rows[0]?.median) });
type SizeRow = PartRow & { currency: string | null; n: string; total: string | null; average: string | null };
const sizeOf = (rows: SizeRow[]): { byCurrency: DealSizeRowDto[] } => ({
  byCurrency: rows.filter((r) => r.currency && num(r.n) > 0).map((r) => ({
    currency: r.currency as string, count: num(r.n),
    total: formatMoney(r.total, r.currency) as string, average: formatMoney(r.average, r.currency) as string,
  })),
});

export function createSalesAnalytics({ db }: { db: Executor }) {
  /** The caller's scope over deals or leads; 403 for roles without sales figures. */
  function scopeFor(ctx: RequestContext, of: 'deals' | 'leads' | 'summaries') {
    const scope = assertArea(ctx.actor, 'sales');
    const t = { deals, leads, summaries: dealStageSummaries }[of];
    return scopeCondition(ctx.actor, scope, { ownerId: t.ownerId, teamId: t.teamId });
  }

  function options(ctx: RequestContext, raw: unknown, of: 'deals' | 'leads' = 'deals') {
    const scope = scopeFor(ctx, of);
    const q = parseParams(SalesQuery, raw);
    const range = resolveRange(q);
    return { q, o: { range, scope, groupBy: q.groupBy, interval: q.interval, timeZone: q.timeZone }, window: windowOf(range, q.timeZone) };
  }

  const service = {
    async winRate(ctx: RequestContext, raw: unknown): Promise<WinRateDto> {
      const { q, o, window } = options(ctx, raw);
      const s = shape(await runFigure<WinRow>(db, repo.winRateQuery(o)), q, winOf);
      return { ...window, ...s.total, ...(s.groups && { groups: s.groups }), ...(s.series && { series: s.series }) };
    },

    async cycleLength(ctx: RequestContext, raw: unknown): Promise<CycleLengthDto> {
      const { q, o, window } = options(ctx, raw);
      const s = shape(await runFigure<CycleRow>(db, repo.cycleLengthQuery(o)), q, cycleOf);
      return { ...window, ...s.total, ...(s.groups && { groups: s.groups }), ...(s.series && { series: s.series }) };
    },

    async dealSize(ctx: RequestContext, raw: unknown): Promise<DealSizeDto> {
      const { q, o, window } = options(ctx, raw);
      const s = shape(await runFigure<SizeRow>(db, repo.dealSizeQuery({ ...o })), q, sizeOf);
      return { ...window, ...s.total, ...(s.groups && { groups: s.groups }), ...(s.series && { series: s.series }) };
    },

    async velocity(ctx: RequestContext, raw: unknown): Promise<VelocityDto> {
      const scope = scopeFor(ctx, 'deals');
      const q = parseParams(PlainQuery, raw);
      const range = resolveRange(q);
      const rows = await repo.velocity(db, { range, scope, timeZone: q.timeZone });
      return {
        ...windowOf(range, q.timeZone),
        byCurrency: rows.map((r) => ({
          currency: r.currency, openDeals: num(r.open), won: num(r.won), lost: num(r.lost),
          winRate: ratio(num(r.won), num(r.won) + num(r.lost)),
          averageWonAmount: formatMoney(r.average, r.currency), cycleDays: numOrNull(r.cycle),
          velocityPerDay: formatMoney(r.velocity, r.currency),
        })),
      };
    },

    async funnel(ctx: RequestContext, raw: unknown): Promise<FunnelDto> {
      const scope = scopeFor(ctx, 'summaries');
      const q = parseParams(FunnelQuery, raw);
      const range = resolveRange(q);
      const rows = await repo.funnel(db, { range, scope, timeZone: q.timeZone, pipelineId: q.pipelineId });
      const pipelines = foldBy(rows, (r) => r.pipeline_id, (r) => ({ pipelineId: r.pipeline_id, name: r.pipeline_name, rows: [] as repo.FunnelRow[] }), (p, r) => p.rows.push(r));
      return {
        ...windowOf(range, q.timeZone),
        pipelines: pipelines.map((p) => {
          const stages = foldBy(p.rows, (r) => r.stage_id, (r) => ({
            stageId: r.stage_id, name: r.stage_name, position: Number(r.position), kind: r.kind, count: 0,
            amount: [] as { currency: string; amount: string }[], conversionFromPrevious: null as number | null,
          }), (st, r) => {
            st.count += num(r.n);
            if (r.currency && r.amount !== null) st.amount.push({ currency: r.currency, amount: formatMoney(r.amount, r.currency) as string });
          });
          stages.forEach((st, i) => { st.conversionFromPrevious = i === 0 ? null : ratio(st.count, (stages[i - 1] as { count: number }).count); });
          return { pipelineId: p.pipelineId, name: p.name, stages };
        }),
      };
    },

    async leadSources(ctx: RequestContext, raw: unknown): Promise<LeadSourcesDto> {
      const scope = scopeFor(ctx, 'leads');
      const q = parseParams(PlainQuery, raw);
      const range = resolveRange(q);
      const rows = await repo.leadSources(db, { range, scope, timeZone: q.timeZone });
      const fields = (r: repo.LeadSourceRow | undefined) => {
        const n = num(r?.leads);
        const c = num(r?.converted);
        return { leads: n, converted: c, conversionRate: ratio(c, n) };
      };
      const total = rows.find((r) => r.total);
      return {
        ...windowOf(range, q.timeZone),
        ...fields(total),
        sources: rows.filter((r) => !r.total).map((r) => ({ source: r.source, ...fields(r) })),
      };
    },
  } satisfies Record<Figure, (ctx: RequestContext, raw: unknown) => Promise<unknown>>;
  return service;
}

export type SalesAnalytics = ReturnType<typeof createSalesAnalytics>;
