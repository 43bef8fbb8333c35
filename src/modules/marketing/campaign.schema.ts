import { z } from 'zod';
import { Timestamp, Uuid, iso, ownershipFields, recordFields } from '../../platform/http/common.schema.js';
import { currencyCode, decimalString, formatMoney } from '../../platform/http/money.js';
import { CAMPAIGN_CHANNELS, CAMPAIGN_STATUSES, type CampaignRow, ENGAGEMENT_TYPES } from './campaign.table.js';

export const CampaignStatus = z.enum(CAMPAIGN_STATUSES).meta({ id: 'CampaignStatus' });
export const CampaignChannel = z.enum(CAMPAIGN_CHANNELS).meta({ id: 'CampaignChannel' });

const readOnly = (what: string) => z.never({ error: 'is read-only' }).optional().describe(`read-only: ${what}`);

const writable = {
  name: z.string().trim().min(1).max(200),
  channel: CampaignChannel.describe('only email campaigns are sent by this service; the others record engagement through /events'),
  segmentId: Uuid.nullable().describe('a live segment: its members with emailOptIn are the audience when sending starts'),
  subject: z.string().trim().min(1).max(500).nullable().describe('plain text; {{firstName}} and other placeholders allowed'),
  content: z.string().min(1).max(500_000).nullable().describe(
    'HTML; {{firstName}}, {{lastName}}, {{email}}, {{phone}}, {{jobTitle}}, {{custom.<key>}} are filled in escaped, {{unsubscribeUrl}} '
    + 'places the unsubscribe link (added at the end when absent); absolute http(s) links are tracked',
  ),
  budget: decimalString.nullable().describe('needs currency'),
  spend: decimalString.nullable().describe('needs currency; what the campaign has cost so far (acquisition cost figures)'),
  currency: currencyCode.nullable(),
  ownerId: Uuid.nullable(),
  teamId: Uuid.nullable(),
};

const computed = {
  status: readOnly('POST /send, /cancel'),
  scheduledAt: readOnly('POST /send with at'),
  startedAt: readOnly('when sending began'),
  sentAt: readOnly('when the last message went out'),
  cancelledAt: readOnly('POST /cancel'),
};

export const CampaignCreate = z.object({ ...writable, ...computed }).partial().required({ name: true }).strict().meta({ id: 'CampaignCreate' });
export const CampaignPatch = z
  .object({ ...writable, ...computed })
  .partial()
  .strict()
  .meta({ id: 'CampaignPatch', description: 'JSON merge patch; audience, subject and content are fixed once sending starts' });
export type CampaignCreateInput = z.infer<typeof CampaignCreate>;
export type CampaignPatchInput = z.infer<typeof CampaignPatch>;

export const CampaignSend = z
  .object({ at: z.iso.datetime({ offset: true }).optional().describe('a future time schedules the campaign; absent or past sends now') })
  .strict()
  .meta({ id: 'CampaignSend' });

export const Campaign = z
  .object({
    ...recordFields,
    ...ownershipFields,
    name: z.string(),
    channel: CampaignChannel,
    segmentId: Uuid.nullable(),
    subject: z.string().nullable(),
    content: z.string().nullable(),
    status: CampaignStatus,
    scheduledAt: Timestamp.nullable(),
    budget: z.string().nullable(),
    spend: z.string().nullable(),
    currency: z.string().nullable(),
    startedAt: Timestamp.nullable(),
    sentAt: Timestamp.nullable(),
    cancelledAt: Timestamp.nullable(),
  })
  .meta({ id: 'Campaign' });
export type CampaignDto = z.infer<typeof Campaign>;
export const campaignFieldNames = Object.keys(Campaign.shape);
export const CampaignList = z.object({ data: z.array(Campaign), nextCursor: z.string().nullable() }).meta({ id: 'CampaignList' });
export const CampaignId = z.object({ id: Uuid });

export const CampaignStats = z
  .object({
    sent: z.number().int().describe('messages the SMTP server accepted'),
    delivered: z.number().int().describe('recipients with a delivered event and no bounce'),
    opened: z.number().int(),
    clicked: z.number().int(),
    converted: z.number().int(),
    unsubscribed: z.number().int(),
    bounced: z.number().int(),
    recipients: z.object({
      queued: z.number().int(), sending: z.number().int(), sent: z.number().int(), failed: z.number().int(),
      interrupted: z.number().int().describe('in flight when a process stopped: never mailed again, as they may have received it'),
      cancelled: z.number().int(),
    }),
    revenue: z.record(z.string(), z.string()).describe('converted orders\' value per currency'),
  })
  .meta({ id: 'CampaignStats', description: 'each engagement figure counts distinct contacts' });
export type CampaignStatsDto = z.infer<typeof CampaignStats>;

export const CampaignEventInput = z
  .object({
    type: z.enum(ENGAGEMENT_TYPES),
    contactId: Uuid.optional(),
    email: z.email().max(320).optional().describe('instead of contactId: the live contact with this email'),
    occurredAt: z.iso.datetime({ offset: true }).optional().describe('defaults to now'),
    url: z.url().max(2000).optional().describe('the link, for clicked'),
    externalId: z.string().min(1).max(200).optional().describe('the sending system\'s id: the same one twice is recorded once'),
  })
  .strict()
  .superRefine((v, c) => {
    if ((v.contactId === undefined) === (v.email === undefined)) c.addIssue({ code: 'custom', path: ['contactId'], message: 'give exactly one of contactId and email' });
  });
export const CampaignEventsIngest = z
  .object({ events: z.array(CampaignEventInput).min(1).max(1000) })
  .strict()
  .meta({ id: 'CampaignEventsIngest' });
export const CampaignEventsResult = z
  .object({ recorded: z.number().int(), duplicates: z.number().int().describe('events whose externalId was already recorded') })
  .meta({ id: 'CampaignEventsResult' });

export function toCampaignDto(r: CampaignRow): CampaignDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    ownerId: r.ownerId,
    teamId: r.teamId,
    name: r.name,
    channel: r.channel,
    segmentId: r.segmentId,
    subject: r.subject,
    content: r.content,
    status: r.status,
    scheduledAt: iso(r.scheduledAt),
    budget: formatMoney(r.budget, r.currency),
    spend: formatMoney(r.spend, r.currency),
    currency: r.currency,
    startedAt: iso(r.startedAt),
    sentAt: iso(r.sentAt),
    cancelledAt: iso(r.cancelledAt),
  };
}
