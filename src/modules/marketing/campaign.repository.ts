import { type SQL, and, asc, count, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { contacts } from '../customer/contact.table.js';
import {
  CAMPAIGN_CHANNELS, CAMPAIGN_STATUSES, type CampaignEventRow, type CampaignInsert, type CampaignRow, type RecipientRow,
  campaignEvents as e, campaignRecipients as r, campaigns as c,
} from './campaign.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

export const campaignCollection: CollectionSpec = {
  id: { expr: c.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-createdAt',
  fields: {
    id: { expr: c.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: c.name, type: 'string', nullable: false, sortable: true },
    channel: { expr: c.channel, type: 'enum', values: CAMPAIGN_CHANNELS, nullable: false },
    status: { expr: c.status, type: 'enum', values: CAMPAIGN_STATUSES, nullable: false },
    segmentId: { expr: c.segmentId, type: 'uuid', nullable: true },
    scheduledAt: { expr: c.scheduledAt, type: 'datetime', nullable: true, sortable: true },
    sentAt: { expr: c.sentAt, type: 'datetime', nullable: true, sortable: true },
    ownerId: { expr: c.ownerId, type: 'uuid', nullable: true },
    teamId: { expr: c.teamId, type: 'uuid', nullable: true },
    createdAt: { expr: c.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: c.updatedAt, type: 'datetime', nullable: false, sortable: true },
    deletedAt: { expr: c.deletedAt, type: 'datetime', nullable: true },
  },
};

export const campaignSortable = Object.entries(campaignCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const campaignFilterable = Object.keys(campaignCollection.fields);

const live = (includeDeleted: boolean) => (includeDeleted ? undefined : isNull(c.deletedAt));

export async function findCampaign(db: Executor, id: string): Promise<CampaignRow | undefined> {
  const rows = await db.select().from(c).where(eq(c.id, id)).limit(1);
  return rows[0];
}

export async function lockCampaign(tx: Executor, id: string): Promise<CampaignRow | undefined> {
  const rows = await tx.select().from(c).where(eq(c.id, id)).for('update');
  return rows[0];
}

export async function listCampaigns(db: Executor, list: CompiledList, o: { includeDeleted: boolean }): Promise<CampaignRow[]> {
  return db.select().from(c).where(and(list.where, live(o.includeDeleted))).orderBy(...list.orderBy).limit(list.fetch);
}

export async function countCampaigns(db: Executor, where: SQL | undefined, o: { includeDeleted: boolean }): Promise<number> {
  const rows = await db.select({ n: count() }).from(c).where(and(where, live(o.includeDeleted)));
  return Number(rows[0]?.n ?? 0);
}

export async function insertCampaign(tx: Executor, values: CampaignInsert): Promise<CampaignRow> {
  const rows = await tx.insert(c).values(values).returning();
  return rows[0] as CampaignRow;
}

export async function updateCampaign(tx: Executor, id: string, values: Partial<CampaignInsert>): Promise<CampaignRow> {
  const rows = await tx
    .update(c)
    .set({ ...values, version: sql`${c.version} + 1`, updatedAt: sql`now()` })
    .where(eq(c.id, id))
    .returning();
  return rows[0] as CampaignRow;
}

/** Scheduled campaigns whose time has come, locked (SKIP LOCKED: one process starts each). */
export async function lockDueScheduled(tx: Executor, now: Date, limit: number): Promise<CampaignRow[]> {
  return tx.select().from(c)
    .where(and(eq(c.status, 'scheduled'), lte(c.scheduledAt, now), isNull(c.deletedAt)))
    .orderBy(asc(c.scheduledAt)).limit(limit).for('update', { skipLocked: true });
}

/**
 * Fixes the audience: the live members of the segment condition who have an email and email opt-in,
 * one row each (a contact already queued — enrolled by a workflow, say — is not queued twice).
 */
export async function queueMembers(tx: Executor, campaignId: string, members: SQL): Promise<number> {
  const res = await queryRows(tx, sql`
    -- recipient rows never leave the service (only inside signed tracking tokens): a random id suffices
    INSERT INTO ${r} (id, campaign_id, contact_id, email, status)
    SELECT gen_random_uuid(), ${campaignId}::uuid, ${contacts.id}, ${contacts.email}, 'queued'
    FROM ${contacts}
    WHERE ${contacts.deletedAt} IS NULL AND ${contacts.emailOptIn} AND ${contacts.email} IS NOT NULL AND ${members}
    ON CONFLICT (campaign_id, contact_id) DO NOTHING`);
  return res.affected;
}

export async function insertRecipient(tx: Executor, campaignId: string, contactId: string, email: string): Promise<boolean> {
  const rows = await tx.insert(r).values({ campaignId, contactId, email, status: 'queued' }).onConflictDoNothing().returning({ id: r.id });
  return rows.length > 0;
}

/** The next queued recipient of a sending campaign, claimed (committed as `sending` by the caller's transaction). */
export async function claimNext(tx: Executor, now: Date): Promise<(RecipientRow & { campaign: CampaignRow }) | undefined> {
  const rows = await tx.select({ recipient: r, campaign: c }).from(r)
    .innerJoin(c, eq(c.id, r.campaignId))
    .where(and(eq(r.status, 'queued'), eq(c.status, 'sending')))
    .orderBy(asc(r.campaignId), asc(r.id)).limit(1).for('update', { of: r, skipLocked: true });
  const row = rows[0];
  if (!row) return undefined;
  await tx.update(r).set({ status: 'sending', attemptedAt: now, attempts: sql`${r.attempts} + 1` }).where(eq(r.id, row.recipient.id));
  return { ...row.recipient, campaign: row.campaign };
}

export async function markRecipient(db: Executor, id: string, values: Partial<RecipientRow>): Promise<void> {
  await db.update(r).set(values).where(eq(r.id, id));
}

/** Rows a stopped process left `sending` before `staleBefore`: they may have been mailed, so never again. */
export async function interruptStale(db: Executor, staleBefore: Date): Promise<number> {
  const res = await queryRows(db, sql`UPDATE ${r} SET status = 'interrupted',
      error = 'the sending process stopped during this message; not resent, as it may have arrived'
    WHERE status = 'sending' AND attempted_at < ${staleBefore.toISOString()}::timestamptz`);
  return res.affected;
}

/** Sending campaigns with nothing left to send become `sent`; answers their ids. */
export async function finishSent(db: Executor, now: Date): Promise<CampaignRow[]> {
  return db.update(c).set({ status: 'sent', sentAt: now, version: sql`${c.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(c.status, 'sending'), sql`NOT EXISTS (SELECT 1 FROM ${r} WHERE ${r.campaignId} = ${c.id} AND ${r.status} IN ('queued', 'sending'))`))
    .returning();
}

export async function cancelQueued(tx: Executor, campaignId: string): Promise<void> {
  await tx.update(r).set({ status: 'cancelled' }).where(and(eq(r.campaignId, campaignId), eq(r.status, 'queued')));
}

export async function findRecipient(db: Executor, id: string): Promise<(RecipientRow & { campaign: CampaignRow }) | undefined> {
  const rows = await db.select({ recipient: r, campaign: c }).from(r).innerJoin(c, eq(c.id, r.campaignId)).where(eq(r.id, id)).limit(1);
  return rows[0] ? { ...rows[0].recipient, campaign: rows[0].campaign } : undefined;
}

export type EventInsert = typeof e.$inferInsert;

/** Records engagement; events whose externalId is already recorded are skipped. Answers how many were new. */
export async function insertEvents(tx: Executor, rows: EventInsert[]): Promise<CampaignEventRow[]> {
  if (rows.length === 0) return [];
  return tx.insert(e).values(rows).onConflictDoNothing().returning();
}

export interface StatsRow {
  sent: number; delivered: number; opened: number; clicked: number; converted: number; unsubscribed: number; bounced: number;
  queued: number; sending: number; failed: number; interrupted: number; cancelled: number; revenue: Record<string, string> | null;
}

/** Every figure of a campaign's stats in one statement: distinct contacts per engagement type, recipients per status. */
export async function campaignStats(db: Executor, campaignId: string): Promise<StatsRow> {
  const distinct = (type: string) => sql`count(DISTINCT contact_id) FILTER (WHERE type = ${type})`;
  const status = (s: string) => sql`(SELECT count(*) FROM ${r} WHERE ${r.campaignId} = ${campaignId}::uuid AND ${r.status} = ${s})::int`;
  const res = await queryRows<StatsRow>(db, sql`
    SELECT ${status('sent')} AS sent, ${status('queued')} AS queued, ${status('sending')} AS sending, ${status('failed')} AS failed,
      ${status('interrupted')} AS interrupted, ${status('cancelled')} AS cancelled,
      (SELECT count(DISTINCT d.contact_id) FROM ${e} d WHERE d.campaign_id = ${campaignId}::uuid AND d.type = 'delivered'
        AND NOT EXISTS (SELECT 1 FROM ${e} b WHERE b.campaign_id = d.campaign_id AND b.contact_id = d.contact_id AND b.type = 'bounced'))::int AS delivered,
      ${distinct('opened')}::int AS opened, ${distinct('clicked')}::int AS clicked, ${distinct('converted')}::int AS converted,
      ${distinct('unsubscribed')}::int AS unsubscribed, ${distinct('bounced')}::int AS bounced,
      (SELECT jsonb_object_agg(currency, total::text) FROM (SELECT currency, sum(amount) AS total FROM ${e}
        WHERE campaign_id = ${campaignId}::uuid AND type = 'converted' AND currency IS NOT NULL GROUP BY currency) m) AS revenue
    FROM ${e} WHERE campaign_id = ${campaignId}::uuid`);
  return res.rows[0] as StatsRow;
}

/** Live contacts by email (ingested events name them so). */
export async function contactIdsByEmail(db: Executor, emails: string[]): Promise<Map<string, string>> {
  if (emails.length === 0) return new Map();
  const rows = await db.select({ id: contacts.id, email: contacts.email }).from(contacts)
    .where(and(inArray(contacts.email, emails), isNull(contacts.deletedAt)));
  return new Map(rows.map((x) => [x.email as string, x.id]));
}

export async function liveContactIds(db: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.select({ id: contacts.id }).from(contacts).where(and(inArray(contacts.id, ids), isNull(contacts.deletedAt)));
  return new Set(rows.map((x) => x.id));
}
