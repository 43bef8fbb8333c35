import { type SQL, asc, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { can } from '../../platform/auth/permissions.js';
import { queryRows, sqlArray } from '../../platform/db/execute.js';
import type { ErasedRecords, Person, PersonalDataPart, TimelineItem, TimelineRow, TimelineSource } from '../customer/index.js';
import { campaignEvents, campaignRecipients, campaigns } from './campaign.table.js';

// Where campaigns meet the customer module: engagement on the contact timeline, contact merges and GDPR.

const iso = (col: unknown) => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Each engagement of the contact (delivered, opened, clicked, bounced, unsubscribed, converted), with the campaign's name. */
export const campaignTimelineSource: TimelineSource = {
  kinds: ['campaign_event'],
  branch(ctx: RequestContext, subject, keyset, fetch): SQL | undefined {
    if (subject.entityType !== 'contact' || !can(ctx.actor, 'campaigns', 'read')) return undefined;
    const e = campaignEvents;
    return sql`
      SELECT 'campaign_event'::text, ${e.occurredAt}, ${e.id}, 'campaign'::text, ${e.campaignId},
             jsonb_build_object('type', ${e.type}, 'campaignId', ${e.campaignId}, 'campaignName', ${campaigns.name},
               'source', ${e.source}, 'url', ${e.url}, 'orderId', ${e.orderId}, 'amount', ${e.amount}::text, 'currency', ${e.currency},
               'occurredAt', ${iso(e.occurredAt)}),
             NULL::jsonb, NULL::jsonb
        FROM ${e} JOIN ${campaigns} ON ${campaigns.id} = ${e.campaignId}
       WHERE ${e.contactId} = ${subject.id}::uuid ${keyset(e.occurredAt, 'campaign_event', e.id)}
       ORDER BY ${e.occurredAt} DESC, ${e.id} DESC
       LIMIT ${fetch}`;
  },
  toItem(r: TimelineRow): TimelineItem {
    const d = r.record ?? {};
    return {
      type: 'campaign_event', occurredAt: r.occurred_at, entityType: 'campaign', entityId: r.entity_id,
      summary: `Campaign "${String(d.campaignName ?? '')}": ${String(d.type ?? '')}`, data: d,
    };
  },
};

const ids = (list: readonly string[]) => sqlArray(list, 'uuid');

/**
 * Merging contacts: the duplicates' engagement becomes the primary's. A recipient row of a duplicate
 * moves unless the primary already has one for that campaign (then it stays, as a record of what was sent).
 */
export async function moveCampaignLinks(tx: Executor, _ctx: RequestContext, primaryId: string, duplicateIds: readonly string[]): Promise<Record<string, number>> {
  const events = await queryRows(tx, sql`UPDATE campaign_events SET contact_id = ${primaryId}::uuid WHERE contact_id = ANY(${ids(duplicateIds)})`);
  const recipients = await queryRows(tx, sql`
    UPDATE campaign_recipients r SET contact_id = ${primaryId}::uuid
    WHERE r.contact_id = ANY(${ids(duplicateIds)})
      AND NOT EXISTS (SELECT 1 FROM campaign_recipients p WHERE p.campaign_id = r.campaign_id AND p.contact_id = ${primaryId}::uuid)
      AND r.id = (SELECT min(x.id::text)::uuid FROM campaign_recipients x WHERE x.campaign_id = r.campaign_id AND x.contact_id = ANY(${ids(duplicateIds)}))`);
  return { campaignEvents: events.affected, campaignRecipients: recipients.affected };
}

/** GDPR: what was sent to the person and what they did with it; erasure forgets the address each message went to. */
export const campaignGdprPart: PersonalDataPart = {
  key: 'campaigns',
  async export(db: Executor, person: Person) {
    if (person.contactIds.length === 0) return { received: [], engagement: [] };
    const received = await db.select({
      campaignId: campaignRecipients.campaignId, email: campaignRecipients.email, status: campaignRecipients.status, sentAt: campaignRecipients.sentAt,
    }).from(campaignRecipients).where(inArray(campaignRecipients.contactId, [...person.contactIds])).orderBy(asc(campaignRecipients.createdAt));
    const engagement = await db.select({
      campaignId: campaignEvents.campaignId, type: campaignEvents.type, occurredAt: campaignEvents.occurredAt, url: campaignEvents.url,
    }).from(campaignEvents).where(inArray(campaignEvents.contactId, [...person.contactIds])).orderBy(asc(campaignEvents.occurredAt));
    return {
      received: received.map((r) => ({ ...r, sentAt: r.sentAt?.toISOString() ?? null })),
      engagement: engagement.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString() })),
    };
  },
  async erase(tx: Executor, person: Person): Promise<ErasedRecords[]> {
    if (person.contactIds.length === 0) return [];
    await queryRows(tx, sql`UPDATE campaign_recipients SET email = NULL WHERE contact_id = ANY(${ids(person.contactIds)})`);
    return [];
  },
};
