import { z } from 'zod';
import {
  Address, CustomValues, ExternalIds, ExternalIdsPatch, Tags, Timestamp, Uuid, iso, ownershipFields, recordFields,
} from '../../platform/http/common.schema.js';
import { MAX_BATCH } from '../../platform/http/batch.js';
import { UserSummary } from '../identity/index.js';
import { Company } from './company.schema.js';
import { LIFECYCLE_STAGES, type ContactRow } from './contact.table.js';

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address such as ana@example.com')
  .describe('lower-cased');
const Phone = z.string().trim().max(50).describe('E.164 after parsing; numbers without + use DEFAULT_PHONE_REGION');
const Name = z.string().trim().min(1).max(200);
const Text = (max: number) => z.string().trim().max(max);

export const LifecycleStage = z.enum(LIFECYCLE_STAGES).meta({ id: 'LifecycleStage' });

const writable = {
  firstName: Name.nullable(),
  lastName: Name.nullable(),
  email: Email.nullable(),
  phone: Phone.nullable(),
  additionalEmails: z.array(Email).max(20),
  additionalPhones: z.array(Phone).max(20),
  jobTitle: Text(200).nullable(),
  companyId: Uuid.nullable(),
  address: Address.nullable(),
  tags: Tags,
  lifecycleStage: LifecycleStage.nullable(),
  source: Text(200).nullable(),
  externalIds: ExternalIds,
  emailOptIn: z.boolean(),
  smsOptIn: z.boolean(),
  consentSource: Text(200).nullable(),
  ...ownershipFields,
  custom: CustomValues,
};

/** The fields one of which a contact must have (API.md §5b). */
export const IDENTIFYING_FIELDS = ['firstName', 'lastName', 'email', 'phone'] as const;

export const ContactCreate = z
  .object(writable)
  .partial()
  .strict()
  .meta({ id: 'ContactCreate', description: 'At least one of firstName, lastName, email, phone' });

export const ContactPatch = z
  .object({ ...writable, externalIds: ExternalIdsPatch })
  .partial()
  .strict()
  .meta({ id: 'ContactPatch', description: 'JSON merge patch: null clears a field, absent leaves it' });

export type ContactCreateInput = z.infer<typeof ContactCreate>;
export type ContactPatchInput = z.infer<typeof ContactPatch>;

export const Contact = z
  .object({
    ...recordFields,
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    additionalEmails: z.array(z.string()),
    additionalPhones: z.array(z.string()),
    jobTitle: z.string().nullable(),
    companyId: Uuid.nullable(),
    address: Address.nullable(),
    tags: z.array(z.string()),
    lifecycleStage: LifecycleStage.nullable(),
    source: z.string().nullable(),
    externalIds: z.record(z.string(), z.string()),
    emailOptIn: z.boolean(),
    smsOptIn: z.boolean(),
    consentSource: z.string().nullable(),
    emailOptInAt: Timestamp.nullable().describe('read-only: when emailOptIn last changed, by any write'),
    smsOptInAt: Timestamp.nullable().describe('read-only: when smsOptIn last changed, by any write'),
    ...ownershipFields,
    custom: CustomValues,
    company: Company.nullable().optional().describe('with include=company'),
    owner: UserSummary.nullable().optional().describe('with include=owner'),
  })
  .meta({ id: 'Contact' });

export type ContactDto = z.infer<typeof Contact>;

export const contactIncludes = ['company', 'owner'] as const;
export const contactFieldNames = Object.keys(Contact.shape).filter((k) => !(contactIncludes as readonly string[]).includes(k));

export const ContactList = z
  .object({ data: z.array(Contact), nextCursor: z.string().nullable() })
  .meta({ id: 'ContactList' });

/** `id`, `email` or `externalId.<system>`: how batch records find the contact they mean. */
export const ContactIdProperty = z
  .string()
  .regex(/^(id|email|externalId\.[a-z0-9][a-z0-9_-]{0,49})$/, 'must be id, email or externalId.<system>')
  .describe('How records are matched: id, email or externalId.<system>; default id');

export const ContactBatch = z
  .object({
    operation: z.enum(['create', 'update', 'upsert', 'delete']),
    idProperty: ContactIdProperty.optional(),
    records: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_BATCH),
    atomic: z.boolean().optional().describe('true: all records commit or none'),
  })
  .strict()
  .meta({ id: 'ContactBatch' });

export function toContactDto(r: ContactRow): ContactDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    firstName: r.firstName,
    lastName: r.lastName,
    email: r.email,
    phone: r.phone,
    additionalEmails: r.additionalEmails,
    additionalPhones: r.additionalPhones,
    jobTitle: r.jobTitle,
    companyId: r.companyId,
    address: r.address,
    tags: r.tags,
    lifecycleStage: r.lifecycleStage,
    source: r.source,
    externalIds: r.externalIds,
    emailOptIn: r.emailOptIn,
    smsOptIn: r.smsOptIn,
    consentSource: r.consentSource,
    emailOptInAt: iso(r.emailOptInAt),
    smsOptInAt: iso(r.smsOptInAt),
    ownerId: r.ownerId,
    teamId: r.teamId,
    custom: r.custom,
  };
}

export const ContactId = z.object({ id: Uuid });
