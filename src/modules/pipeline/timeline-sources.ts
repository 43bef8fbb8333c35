import { type SQL, sql } from 'drizzle-orm';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, can, scopeCondition } from '../../platform/auth/permissions.js';
import { formatMoney } from '../../platform/http/money.js';
import type { TimelineItem, TimelineRow, TimelineSource } from '../customer/index.js';
import { dealContacts, dealStageHistory, deals } from './deal.table.js';
import { leads } from './lead.table.js';
import { pipelineStages } from './pipeline.table.js';

// The pipeline's items on the contact and company timelines (API.md §5): every stage change of the
// subject's deals (the creation entry included), and the lead the subject was converted from. Each
// branch is scoped like the deals and leads endpoints: sales see only their own and their teams'
// records, and a role that may not read deals or leads (support) gets no branch at all.

const iso = (col: unknown) => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export const dealTimelineSource: TimelineSource = {
  kinds: ['deal_stage'],
  branch(ctx: RequestContext, subject, keyset, fetch): SQL | undefined {
    if (!can(ctx.actor, 'deals', 'read')) return undefined;
    const scope = scopeCondition(ctx.actor, assertCan(ctx.actor, 'deals', 'read'), { ownerId: deals.ownerId, teamId: deals.teamId });
    const scoped = scope ? sql`AND ${scope}` : sql``;
    const h = dealStageHistory;
    const link = subject.entityType === 'contact'
      ? sql`${h.dealId} IN (SELECT ${dealContacts.dealId} FROM ${dealContacts} WHERE ${dealContacts.contactId} = ${subject.id}::uuid)`
      : sql`${deals.companyId} = ${subject.id}::uuid`;
    return sql`
      SELECT 'deal_stage'::text, ${h.changedAt}, ${h.id}, 'deal'::text, ${deals.id},
             jsonb_build_object(
               'dealId', ${deals.id}, 'dealName', ${deals.name}, 'status', ${deals.status},
               'amount', ${deals.amount}::text, 'currency', ${deals.currency},
               'fromStageId', ${h.fromStageId}, 'fromStage', fs.name, 'toStageId', ${h.toStageId}, 'toStage', ts.name,
               'changedBy', ${h.changedBy}, 'changedAt', ${iso(h.changedAt)}, 'timeInPreviousStageMs', ${h.msInPreviousStage}),
             NULL::jsonb, NULL::jsonb
        FROM ${h}
        JOIN ${deals} ON ${deals.id} = ${h.dealId}
        LEFT JOIN ${pipelineStages} fs ON fs.id = ${h.fromStageId}
        LEFT JOIN ${pipelineStages} ts ON ts.id = ${h.toStageId}
       WHERE ${link} AND ${deals.deletedAt} IS NULL ${scoped} ${keyset(h.changedAt, 'deal_stage', h.id)}
       ORDER BY ${h.changedAt} DESC, ${h.id} DESC
       LIMIT ${fetch}`;
  },
  toItem(r: TimelineRow): TimelineItem {
    const d = r.record ?? {};
    const name = String(d.dealName ?? '');
    const summary = d.fromStageId
      ? `Deal "${name}" moved from ${String(d.fromStage)} to ${String(d.toStage)}`
      : `Deal "${name}" created in ${String(d.toStage)}`;
    const amount = typeof d.amount === 'string' ? formatMoney(d.amount, (d.currency as string | null) ?? null) : null;
    return { type: 'deal_stage', occurredAt: r.occurred_at, entityType: 'deal', entityId: r.entity_id, summary, data: { ...d, amount } };
  },
};

export const leadTimelineSource: TimelineSource = {
  kinds: ['lead_converted'],
  branch(ctx: RequestContext, subject, keyset, fetch): SQL | undefined {
    if (!can(ctx.actor, 'leads', 'read')) return undefined;
    const scope = scopeCondition(ctx.actor, assertCan(ctx.actor, 'leads', 'read'), { ownerId: leads.ownerId, teamId: leads.teamId });
    const scoped = scope ? sql`AND ${scope}` : sql``;
    const link = subject.entityType === 'contact' ? leads.convertedContactId : leads.convertedCompanyId;
    return sql`
      SELECT 'lead_converted'::text, ${leads.convertedAt}, ${leads.id}, 'lead'::text, ${leads.id},
             jsonb_build_object(
               'leadId', ${leads.id}, 'firstName', ${leads.firstName}, 'lastName', ${leads.lastName}, 'email', ${leads.email},
               'companyName', ${leads.companyName}, 'source', ${leads.source}, 'score', ${leads.score},
               'convertedAt', ${iso(leads.convertedAt)}, 'contactId', ${leads.convertedContactId},
               'companyId', ${leads.convertedCompanyId}, 'dealId', ${leads.convertedDealId}),
             NULL::jsonb, NULL::jsonb
        FROM ${leads}
       WHERE ${link} = ${subject.id}::uuid AND ${leads.convertedAt} IS NOT NULL AND ${leads.deletedAt} IS NULL ${scoped}
             ${keyset(leads.convertedAt, 'lead_converted', leads.id)}
       ORDER BY ${leads.convertedAt} DESC, ${leads.id} DESC
       LIMIT ${fetch}`;
  },
  toItem(r: TimelineRow): TimelineItem {
    const d = r.record ?? {};
    const who = [d.firstName, d.lastName].filter(Boolean).join(' ') || String(d.email ?? 'lead');
    return { type: 'lead_converted', occurredAt: r.occurred_at, entityType: 'lead', entityId: r.entity_id, summary: `Converted from lead ${who}`, data: d };
  },
};
