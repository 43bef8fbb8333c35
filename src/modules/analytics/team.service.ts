import { z } from 'zod';
import type { RequestContext } from '../../platform/auth/actor.js';
import { type Scope, assertCan, scopeCondition } from '../../platform/auth/permissions.js';
import { AppError } from '../../platform/errors/app-error.js';
import type { Executor } from '../../platform/db/client.js';
import { formatMoney } from '../../platform/http/money.js';
import { activities } from '../customer/activity.table.js';
import { deals } from '../pipeline/deal.table.js';
import { tickets } from '../service/ticket.table.js';
import { foldBy } from './figure-query.js';
import { common, mayRead, num, parseParams, resolveRange } from './params.js';
import { windowOf } from './sales.service.js';
import * as repo from './team.repository.js';

export const TeamQuery = z.object({
  ...common,
  groupBy: z.enum(repo.TEAM_GROUP_BY).default('owner').describe('Per owner (tickets: assignee) or per team'),
}).strict();

const Member = z.object({
  key: z.string().nullable().describe('user or team id; null: records without one'),
  dealsWon: z.number().int().nullable(),
  wonAmount: z.array(z.object({ currency: z.string(), amount: z.string() })).nullable(),
  activities: z.number().int().nullable(),
  ticketsSolved: z.number().int().nullable(),
  medianFirstResponseMinutes: z.number().nullable(),
}).meta({ id: 'TeamMemberPerformance' });
export const TeamPerformance = z.object({
  from: z.string().nullable(), to: z.string().nullable(), timeZone: z.string(),
  groupBy: z.enum(repo.TEAM_GROUP_BY),
  members: z.array(Member),
}).meta({ id: 'TeamPerformance' });
export type TeamPerformanceDto = z.infer<typeof TeamPerformance>;

export function createTeamAnalytics({ db }: { db: Executor }) {
  return {
    /**
     * Per owner or team: deals won and their amount (sales area), activities logged (customer area),
     * tickets solved and median first response (service area). A part the role may not read is null;
     * a sales rep's parts cover their own and their teams' records only.
     */
    async performance(ctx: RequestContext, raw: unknown): Promise<TeamPerformanceDto> {
      const scope: Scope = assertCan(ctx.actor, 'analytics', 'read');
      const may = { sales: mayRead(ctx.actor, 'sales'), customers: mayRead(ctx.actor, 'customers'), service: mayRead(ctx.actor, 'service') };
      if (!may.sales && !may.customers && !may.service) throw new AppError('forbidden', `The ${ctx.actor.role} role may not read team performance`);
      const q = parseParams(TeamQuery, raw);
      const range = resolveRange(q);
      const cond = (cols: Parameters<typeof scopeCondition>[2]) => ({ scope: scopeCondition(ctx.actor, scope, cols) });
      const rows = await repo.performance(db, {
        range, groupBy: q.groupBy,
        deals: may.sales ? cond({ ownerId: deals.ownerId, teamId: deals.teamId }) : undefined,
        activities: may.customers ? cond({ ownerId: activities.ownerId, teamId: activities.teamId }) : undefined,
        tickets: may.service ? cond({ ownerId: tickets.assigneeId, teamId: tickets.teamId }) : undefined,
      });
      const members = foldBy(rows, (r) => r.key, (r) => ({
        key: r.key,
        dealsWon: may.sales ? 0 : null,
        wonAmount: may.sales ? [] as { currency: string; amount: string }[] : null,
        activities: may.customers ? 0 : null,
        ticketsSolved: may.service ? 0 : null,
        medianFirstResponseMinutes: null as number | null,
      }), (m, r) => {
        if (r.part === 'deal') {
          m.dealsWon = (m.dealsWon ?? 0) + num(r.n);
          if (r.currency && r.value !== null) m.wonAmount?.push({ currency: r.currency, amount: formatMoney(r.value, r.currency) as string });
        } else if (r.part === 'activity') m.activities = num(r.n);
        else {
          m.ticketsSolved = num(r.n);
          m.medianFirstResponseMinutes = r.value === null ? null : Number(r.value);
        }
      });
      return { ...windowOf(range, q.timeZone), groupBy: q.groupBy, members };
    },
  };
}

export type TeamAnalytics = ReturnType<typeof createTeamAnalytics>;
