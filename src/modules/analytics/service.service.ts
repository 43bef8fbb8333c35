import type { RequestContext } from '../../platform/auth/actor.js';
import type { Executor } from '../../platform/db/client.js';
import { TICKET_PRIORITIES } from '../service/sla-policy.table.js';
import { type PartRow, runFigure, shape } from './figure-query.js';
import { type Interval, assertArea, num, numOrNull, parseParams, ratio, resolveRange } from './params.js';
import * as repo from './service.repository.js';
import {
  type BacklogDto, type ResponseTimesDto, type SatisfactionDto, type SlaComplianceDto, ServicePlainQuery, ServiceQuery,
} from './service.schema.js';
import { windowOf } from './sales.service.js';
import { ticketCalendars } from '../service/index.js';

type Row = PartRow & Record<string, number | string | null>;
const duration = (r: Row | undefined, c: string) => ({
  count: num(r?.[`${c}_n`]), averageMinutes: numOrNull(r?.[`${c}_avg`]),
  medianMinutes: numOrNull(r?.[`${c}_p50`]), p90Minutes: numOrNull(r?.[`${c}_p90`]),
});
const timesOf = (rows: Row[]) => ({
  firstResponse: duration(rows[0], 'fr'), resolution: duration(rows[0], 'res'),
  business: { firstResponse: duration(rows[0], 'bfr'), resolution: duration(rows[0], 'bres') },
});
const sla = (r: Row | undefined, c: string) => {
  const met = num(r?.[`${c}_met`]);
  const breached = num(r?.[`${c}_breached`]);
  return { met, breached, compliance: ratio(met, met + breached) };
};
const slaOf = (rows: Row[]) => ({ firstResponse: sla(rows[0], 'fr'), resolution: sla(rows[0], 'res') });
const STATUSES = ['new', 'open', 'pending'] as const;

export function createServiceAnalytics({ db }: { db: Executor }) {
  /** Tickets are "r all" for every role that may read service figures: no record scope applies. */
  function options(ctx: RequestContext, raw: unknown, plain = false) {
    assertArea(ctx.actor, 'service');
    const q: { from?: string | undefined; to?: string | undefined; timeZone: string; interval?: Interval | undefined; groupBy?: repo.ServiceGroupBy | undefined } =
      plain ? parseParams(ServicePlainQuery, raw) : parseParams(ServiceQuery, raw);
    const range = resolveRange(q);
    return { q, o: { range, groupBy: q.groupBy, interval: q.interval, timeZone: q.timeZone }, window: windowOf(range, q.timeZone) };
  }

  return {
    async responseTimes(ctx: RequestContext, raw: unknown): Promise<ResponseTimesDto> {
      const { q, o, window } = options(ctx, raw);
      // business minutes: stored on the tickets; when some are stale (not refreshed yet), they are
      // measured here and the figure runs again with them
      const calendars = await ticketCalendars(db);
      let parts = await runFigure<Row>(db, repo.responseTimesQuery(o, calendars, []));
      if (num(parts.total[0]?.stale_n) > 0) {
        const remeasured = await repo.staleAnsweredTickets(db, o, calendars);
        parts = await runFigure<Row>(db, repo.responseTimesQuery(o, calendars, remeasured));
      }
      const s = shape(parts, q, timesOf);
      return { ...window, ...s.total, ...(s.groups && { groups: s.groups }), ...(s.series && { series: s.series }) };
    },

    async slaCompliance(ctx: RequestContext, raw: unknown): Promise<SlaComplianceDto> {
      const { q, o, window } = options(ctx, raw);
      const s = shape(await runFigure<Row>(db, repo.slaQuery(o)), q, slaOf);
      return { ...window, ...s.total, ...(s.groups && { groups: s.groups }), ...(s.series && { series: s.series }) };
    },

    async backlog(ctx: RequestContext, raw: unknown): Promise<BacklogDto> {
      const { o, window } = options(ctx, raw, true);
      const r = await repo.backlog(db, o);
      const open = r.open ?? [];
      const sum = (f: (x: (typeof open)[number]) => boolean) => open.filter(f).reduce((n, x) => n + num(x.n), 0);
      return {
        ...window,
        open: sum(() => true),
        byStatus: STATUSES.map((status) => ({ status, count: sum((x) => x.status === status) })),
        byPriority: TICKET_PRIORITIES.map((priority) => ({ priority, count: sum((x) => x.priority === priority) })),
        created: num(r.created),
        solved: num(r.solved),
      };
    },

    async satisfaction(ctx: RequestContext, raw: unknown): Promise<SatisfactionDto> {
      const { o, window } = options(ctx, raw, true);
      const r = await repo.satisfaction(db, o);
      const [n, p, d] = [num(r.nps_n), num(r.promoters), num(r.detractors)];
      return {
        ...window,
        csat: { responses: num(r.csat_n), satisfied: num(r.csat_satisfied), score: ratio(num(r.csat_satisfied), num(r.csat_n)), averageRating: numOrNull(r.csat_avg) },
        nps: { responses: n, promoters: p, passives: num(r.passives), detractors: d, score: n === 0 ? null : (p - d) / n },
      };
    },
  };
}

export type ServiceAnalytics = ReturnType<typeof createServiceAnalytics>;
