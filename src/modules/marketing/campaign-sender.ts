import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { type Pace, localPace } from '../../platform/redis/pace.js';
import { systemContext } from '../../platform/auth/actor.js';
import { recordChange } from '../../platform/events/record-change.js';
import { contacts } from '../customer/contact.table.js';
import { renderContent, renderSubject } from './campaign-content.js';
import { toCampaignDto } from './campaign.schema.js';
import type { CampaignService } from './campaign.service.js';
import type { Mailer } from './mailer.js';
import { signTrackingToken } from './tracking-token.js';
import * as repo from './campaign.repository.js';

// The sending of campaigns, run by every server process as a worker. Exactly-once delivery cannot
// be had over SMTP (a process can stop after the server accepted a message and before we wrote that
// down), so each message is at most once: its row is committed `sending` before the SMTP call, and a
// row found `sending` after a stop becomes `interrupted`, never mailed again. Everyone else still
// queued is mailed exactly once when sending resumes, by whichever process claims them (SKIP LOCKED).

export const SENDER_INTERVAL_MS = 1000;
/** a row `sending` for longer than this belongs to a process that stopped (an SMTP call times out well before) */
export const SENDING_LEASE_MS = 5 * 60_000;

export interface CampaignSenderDeps {
  mailer: Mailer;
  campaigns: Pick<CampaignService, 'startIn'>;
  publicBaseUrl: string;
  /** messages per second at most (CAMPAIGN_SEND_RATE): per process, or in all when `pace` is shared */
  ratePerSecond: number;
  /** the schedule of sends; shared through Redis when REDIS_URL is set (default: this process's own) */
  pace?: Pace;
  unsubscribeToken: (contactId: string) => string;
  trackingKey: () => Buffer;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export function createCampaignSender(deps: CampaignSenderDeps) {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const base = deps.publicBaseUrl.replace(/\/+$/, '');
  const pace = deps.pace ?? localPace(deps.ratePerSecond);
  let busy = false;

  /** Scheduled campaigns whose time has come start sending (each by one process). */
  async function startDue(db: Executor): Promise<number> {
    return inTransaction(db, async (tx) => {
      const due = await repo.lockDueScheduled(tx, now(), 10);
      for (const c of due) await deps.campaigns.startIn(tx, systemContext('campaign-scheduler'), c);
      return due.length;
    });
  }

  /** One message: personalised from the contact as it is now, links tracked, then the row written down. */
  async function sendOne(db: Executor, claimed: NonNullable<Awaited<ReturnType<typeof repo.claimNext>>>): Promise<void> {
    const [contact] = await db.select().from(contacts).where(eq(contacts.id, claimed.contactId)).limit(1);
    const campaign = claimed.campaign;
    if (!contact || contact.deletedAt || !contact.emailOptIn || !contact.email) {
      // opted out or gone since the audience was fixed: an unsubscribe is honoured up to the last moment
      await repo.markRecipient(db, claimed.id, { status: 'cancelled', error: 'no longer opted in, or no longer a live contact with an email' });
      return;
    }
    const key = deps.trackingKey();
    const unsubscribeUrl = `${base}/v1/unsubscribe?token=${deps.unsubscribeToken(contact.id)}`;
    const click = signTrackingToken(key, claimed.id, 'click');
    const html = renderContent(campaign.content ?? '', contact, {
      unsubscribeUrl,
      openPixelUrl: `${base}/t/o/${signTrackingToken(key, claimed.id, 'open')}`,
      clickUrl: (link) => `${base}/t/c/${click}?u=${encodeURIComponent(link)}`,
    });
    try {
      const info = await deps.mailer.send({
        to: contact.email,
        subject: renderSubject(campaign.subject ?? '', contact),
        html,
        headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'X-CRM-Campaign-Id': campaign.id },
        messageId: `<${claimed.id}@${new URL(base).hostname}>`,
      });
      await inTransaction(db, async (tx) => {
        await repo.markRecipient(tx, claimed.id, { status: 'sent', sentAt: now(), messageId: info.messageId, email: contact.email, error: null });
        await repo.insertEvents(tx, [{ campaignId: campaign.id, contactId: contact.id, type: 'delivered', source: 'system', occurredAt: now() }]);
      });
    } catch (e) {
      // the server refused it: nothing went out, so this is a failure we know of (no retry: a refusal repeats)
      await repo.markRecipient(db, claimed.id, { status: 'failed', error: (e as Error).message.slice(0, 500) });
    }
  }

  /** Campaigns with nobody left to mail become `sent`, audited and announced as the system. */
  async function finish(db: Executor): Promise<void> {
    await inTransaction(db, async (tx) => {
      for (const after of await repo.finishSent(tx, now())) {
        const ctx = systemContext('campaign-sender');
        const before = { ...toCampaignDto(after), status: 'sending' as const, sentAt: null, version: after.version - 1 };
        await recordChange(tx, ctx, { entityType: 'campaign', action: 'update', entityId: after.id, before, after: toCampaignDto(after), domainEvent: 'sent' });
      }
    });
  }

  return {
    /**
     * One pass: start due campaigns, retire rows of stopped processes, then send for at most
     * `budgetMs` at the configured rate. Answers the number of messages attempted.
     */
    async drain(db: Executor, o: { budgetMs?: number; max?: number } = {}): Promise<number> {
      if (busy) return 0; // the previous pass of this process is still sending
      busy = true;
      try {
        await startDue(db);
        await repo.interruptStale(db, new Date(now().getTime() - SENDING_LEASE_MS));
        const until = Date.now() + (o.budgetMs ?? 5 * SENDER_INTERVAL_MS);
        let n = 0;
        while (Date.now() < until && n < (o.max ?? Infinity)) {
          // the slot first: with a shared pace, the other processes' sends decide when ours may go
          const wait = await pace.reserve();
          if (wait > 0) await sleep(wait);
          const claimed = await inTransaction(db, (tx) => repo.claimNext(tx, now()));
          if (!claimed) break;
          await sendOne(db, claimed);
          n++;
        }
        await finish(db);
        return n;
      } finally {
        busy = false;
      }
    },
  };
}

export type CampaignSender = ReturnType<typeof createCampaignSender>;
