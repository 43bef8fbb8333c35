import { z } from 'zod';
import {
  CustomValues, Timestamp, Uuid, iso, ownershipFields, recordFields,
} from '../../platform/http/common.schema.js';
import { currencyCode, decimalString, formatMoney } from '../../platform/http/money.js';
import { UserSummary } from '../identity/index.js';
import { Company, Contact } from '../customer/index.js';
import { DEAL_STATUSES, type DealRow, type DealStageHistoryRow } from './deal.table.js';

export const MAX_DEAL_CONTACTS = 100;

/**
 * Fields the service computes. Declared (rather than left to `.strict()`) so a body carrying them is
 * told "is read-only", as id and version are, instead of "is not a known field".
 */
const readOnly = (what: string) => z.never({ error: 'is read-only' }).optional().describe(`read-only: ${what}`);

const writable = {
  name: z.string().trim().min(1).max(300),
  pipelineId: Uuid,
  stageId: Uuid.describe('a live stage of pipelineId; moving to another pipeline needs a stage of that pipeline'),
  amount: decimalString.nullable().describe('needs currency; at most the currency\'s minor units'),
  currency: currencyCode.nullable(),
  expectedCloseDate: z.iso.date().nullable(),
  companyId: Uuid.nullable(),
  contactIds: z
    .array(Uuid)
    .max(MAX_DEAL_CONTACTS)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a contact')
    .describe(`live contacts, kept in the order given; at most ${MAX_DEAL_CONTACTS}`),
  lostReason: z.string().trim().min(1).max(2000).nullable().describe('required while the deal is lost; only lost deals have one'),
  position: z.number().int().min(0).max(1_000_000).describe('0-based order within the stage; clamped to the stage\'s size'),
  ...ownershipFields,
  custom: CustomValues,
};

const computed = {
  status: readOnly('follows the kind of the stage'),
  closedAt: readOnly('set when the deal enters a won or lost stage'),
  stageEnteredAt: readOnly('when the deal entered its stage'),
  leadId: readOnly('the lead the deal was converted from'),
};

export const DealCreate = z
  .object({ ...writable, ...computed })
  .partial()
  .required({ name: true, pipelineId: true, stageId: true })
  .strict()
  .meta({ id: 'DealCreate' });

export const DealPatch = z
  .object({ ...writable, ...computed })
  .partial()
  .strict()
  .meta({ id: 'DealPatch', description: 'JSON merge patch: null clears a field, absent leaves it; stageId and/or position move the card' });

export type DealCreateInput = z.infer<typeof DealCreate>;
export type DealPatchInput = z.infer<typeof DealPatch>;

export const DealStatus = z.enum(DEAL_STATUSES).meta({ id: 'DealStatus' });

export const Deal = z
  .object({
    ...recordFields,
    name: z.string(),
    pipelineId: Uuid,
    stageId: Uuid,
    amount: z.string().nullable(),
    currency: z.string().nullable(),
    expectedCloseDate: z.string().nullable(),
    companyId: Uuid.nullable(),
    contactIds: z.array(Uuid),
    status: DealStatus,
    lostReason: z.string().nullable(),
    closedAt: Timestamp.nullable(),
    position: z.number().int(),
    stageEnteredAt: Timestamp,
    leadId: Uuid.nullable(),
    ...ownershipFields,
    custom: CustomValues,
    owner: UserSummary.nullable().optional().describe('with include=owner'),
    company: Company.nullable().optional().describe('with include=company'),
    contacts: z.array(Contact).optional().describe('with include=contacts: the live ones, in contactIds order'),
  })
  .meta({ id: 'Deal' });

export type DealDto = z.infer<typeof Deal>;

export const dealIncludes = ['company', 'owner', 'contacts'] as const;
export const dealFieldNames = Object.keys(Deal.shape).filter((k) => !(dealIncludes as readonly string[]).includes(k));

export const DealList = z.object({ data: z.array(Deal), nextCursor: z.string().nullable() }).meta({ id: 'DealList' });

export const DealStageChange = z
  .object({
    id: Uuid,
    fromStageId: Uuid.nullable().describe('null on the entry written when the deal was created'),
    toStageId: Uuid,
    changedAt: Timestamp,
    changedBy: Uuid.nullable(),
    timeInPreviousStageMs: z.number().int().nullable().describe('milliseconds spent in fromStage'),
  })
  .meta({ id: 'DealStageChange' });

export type DealStageChangeDto = z.infer<typeof DealStageChange>;

export const DealHistory = z
  .object({ data: z.array(DealStageChange), nextCursor: z.string().nullable() })
  .meta({ id: 'DealHistory' });

export const DealHistoryQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).optional().describe('Page size, 1–200, default 50'),
    cursor: z.string().max(2048).optional().describe('The nextCursor of the previous page'),
  })
  .strict();

export const DealId = z.object({ id: Uuid });

/** A deal row with its contact ids (deal_contacts, in their order). */
export type DealRecord = DealRow & { contactIds: string[] };

export function toDealDto(r: DealRecord): DealDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    name: r.name,
    pipelineId: r.pipelineId,
    stageId: r.stageId,
    amount: formatMoney(r.amount, r.currency),
    currency: r.currency,
    expectedCloseDate: r.expectedCloseDate,
    companyId: r.companyId,
    contactIds: r.contactIds,
    status: r.status,
    lostReason: r.lostReason,
    closedAt: iso(r.closedAt),
    position: r.position,
    stageEnteredAt: r.stageEnteredAt.toISOString(),
    leadId: r.leadId,
    ownerId: r.ownerId,
    teamId: r.teamId,
    custom: r.custom,
  };
}

export function toStageChangeDto(r: DealStageHistoryRow): DealStageChangeDto {
  return {
    id: r.id,
    fromStageId: r.fromStageId,
    toStageId: r.toStageId,
    changedAt: r.changedAt.toISOString(),
    changedBy: r.changedBy,
    timeInPreviousStageMs: r.msInPreviousStage,
  };
}
