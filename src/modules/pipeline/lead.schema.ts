import { z } from 'zod';
import { CustomValues, Timestamp, Uuid, iso, ownershipFields, recordFields } from '../../platform/http/common.schema.js';
import { currencyCode, decimalString } from '../../platform/http/money.js';
import { UserSummary } from '../identity/index.js';
import { Company, Contact } from '../customer/index.js';
import { Deal } from './deal.schema.js';
import { LEAD_STATUSES, type LeadRow } from './lead.table.js';

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address such as ana@example.com')
  .describe('lower-cased');
const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/, 'must be a domain name such as example.com');
const Name = z.string().trim().min(1).max(200);
const Text = (max: number) => z.string().trim().max(max);

/** What a client may set; `converted` is reached only through POST /v1/leads/:id/convert. */
export const WRITABLE_LEAD_STATUSES = ['new', 'contacted', 'qualified', 'unqualified'] as const;
export const LeadStatus = z.enum(LEAD_STATUSES).meta({ id: 'LeadStatus' });
const WritableStatus = z.enum(WRITABLE_LEAD_STATUSES, {
  error: 'must be new, contacted, qualified or unqualified; converted is set only by converting the lead',
});

const writable = {
  firstName: Name.nullable(),
  lastName: Name.nullable(),
  email: Email.nullable(),
  phone: Text(50).nullable().describe('E.164 after parsing; numbers without + use DEFAULT_PHONE_REGION'),
  companyName: Text(300).nullable(),
  companyDomain: Domain.nullable().describe('lower-cased; conversion reuses the live company with this domain'),
  source: Text(200).nullable(),
  status: WritableStatus,
  ...ownershipFields,
  custom: CustomValues,
};

/**
 * Fields the service computes. Declared (rather than left to `.strict()`) so a body carrying them is
 * told "is read-only", as id and version are, instead of "is not a known field".
 */
const readOnly = (what: string) => z.never({ error: 'is read-only' }).optional().describe(`read-only: ${what}`);
const computed = {
  score: readOnly('computed from the scoring rules'),
  convertedAt: readOnly('set by converting the lead'),
  convertedContactId: readOnly('set by converting the lead'),
  convertedCompanyId: readOnly('set by converting the lead'),
  convertedDealId: readOnly('set by converting the lead'),
  matchingContactId: readOnly('the live contact with the same email'),
};

/** The fields one of which a lead must have, as for contacts (API.md §5b). */
export const IDENTIFYING_FIELDS = ['firstName', 'lastName', 'email', 'phone'] as const;

export const LeadCreate = z
  .object({ ...writable, ...computed })
  .partial()
  .strict()
  .meta({ id: 'LeadCreate', description: 'At least one of firstName, lastName, email, phone; status defaults to new' });

export const LeadPatch = z
  .object({ ...writable, ...computed })
  .partial()
  .strict()
  .meta({ id: 'LeadPatch', description: 'JSON merge patch: null clears a field, absent leaves it. score and converted* are read-only.' });

export type LeadCreateInput = z.infer<typeof LeadCreate>;
export type LeadPatchInput = z.infer<typeof LeadPatch>;

export const Lead = z
  .object({
    ...recordFields,
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    companyName: z.string().nullable(),
    companyDomain: z.string().nullable(),
    source: z.string().nullable(),
    status: LeadStatus,
    score: z.number().int().describe('read-only: the sum of the enabled scoring rules that apply'),
    ...ownershipFields,
    custom: CustomValues,
    convertedAt: Timestamp.nullable(),
    convertedContactId: Uuid.nullable(),
    convertedCompanyId: Uuid.nullable(),
    convertedDealId: Uuid.nullable(),
    matchingContactId: Uuid.nullable().describe('read-only: the live contact with the same email, if any'),
    owner: UserSummary.nullable().optional().describe('with include=owner'),
  })
  .meta({ id: 'Lead' });

export type LeadDto = z.infer<typeof Lead>;

export const leadIncludes = ['owner'] as const;
export const leadFieldNames = Object.keys(Lead.shape).filter((k) => k !== 'owner');

export const LeadList = z.object({ data: z.array(Lead), nextCursor: z.string().nullable() }).meta({ id: 'LeadList' });

/** A lead row as the repository reads it: with the matching contact of its email. */
export type LeadRead = LeadRow & { matchingContactId: string | null };

export function toLeadDto(r: LeadRead): LeadDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    firstName: r.firstName,
    lastName: r.lastName,
    email: r.email,
    phone: r.phone,
    companyName: r.companyName,
    companyDomain: r.companyDomain,
    source: r.source,
    status: r.status,
    score: r.score,
    ownerId: r.ownerId,
    teamId: r.teamId,
    custom: r.custom,
    convertedAt: iso(r.convertedAt),
    convertedContactId: r.convertedContactId,
    convertedCompanyId: r.convertedCompanyId,
    convertedDealId: r.convertedDealId,
    matchingContactId: r.matchingContactId,
  };
}

export const LeadId = z.object({ id: Uuid });

// ------------------------------------------------------------------------------------ conversion

export const LeadConvert = z
  .object({
    dealName: z.string().trim().min(1).max(300).describe('default "<company or person> deal"'),
    pipelineId: Uuid.describe('default: the default pipeline'),
    stageId: Uuid.describe('default: the first open stage of the pipeline'),
    amount: decimalString.describe('needs currency'),
    currency: currencyCode,
  })
  .partial()
  .strict()
  .meta({ id: 'LeadConvert', description: 'A deal is made when dealName, pipelineId, stageId or amount is given' });

export type LeadConvertInput = z.infer<typeof LeadConvert>;

export const LeadConversion = z
  .object({ lead: Lead, contact: Contact, company: Company.nullable(), deal: Deal.nullable() })
  .meta({ id: 'LeadConversion' });

export type LeadConversionDto = z.infer<typeof LeadConversion>;
