import { z } from 'zod';
import {
  Address, CustomValues, ExternalIds, ExternalIdsPatch, Tags, Uuid, ownershipFields, recordFields, iso,
} from '../../platform/http/common.schema.js';
import { currencyCode, decimalString, formatMoney } from '../../platform/http/money.js';
import { MAX_BATCH } from '../../platform/http/batch.js';
import type { CompanyRow } from './company.table.js';
import { UserSummary } from '../identity/index.js';

const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/, 'must be a domain name such as example.com');

const writable = {
  name: z.string().trim().min(1).max(300),
  domain: Domain.nullable(),
  industry: z.string().trim().max(200).nullable(),
  employees: z.number().int().min(0).max(100_000_000).nullable(),
  annualRevenue: decimalString.nullable(),
  currency: currencyCode.nullable(),
  phone: z.string().trim().max(50).nullable().describe('E.164 after parsing; numbers without + use DEFAULT_PHONE_REGION'),
  address: Address.nullable(),
  tags: Tags,
  externalIds: ExternalIds,
  ...ownershipFields,
  custom: CustomValues,
};

export const CompanyCreate = z
  .object({ ...writable, name: writable.name })
  .partial()
  .required({ name: true })
  .strict()
  .meta({ id: 'CompanyCreate' });

export const CompanyPatch = z
  .object({ ...writable, externalIds: ExternalIdsPatch })
  .partial()
  .strict()
  .meta({ id: 'CompanyPatch', description: 'JSON merge patch: null clears a field, absent leaves it' });

export type CompanyCreateInput = z.infer<typeof CompanyCreate>;
export type CompanyPatchInput = z.infer<typeof CompanyPatch>;

export const Company = z
  .object({
    ...recordFields,
    name: z.string(),
    domain: z.string().nullable(),
    industry: z.string().nullable(),
    employees: z.number().int().nullable(),
    annualRevenue: z.string().nullable(),
    currency: z.string().nullable(),
    phone: z.string().nullable(),
    address: Address.nullable(),
    tags: z.array(z.string()),
    externalIds: z.record(z.string(), z.string()),
    ...ownershipFields,
    custom: CustomValues,
    owner: UserSummary.nullable().optional().describe('with include=owner'),
  })
  .meta({ id: 'Company' });

export type CompanyDto = z.infer<typeof Company>;

export const companyFieldNames = Object.keys(Company.shape).filter((k) => k !== 'owner');
export const companyIncludes = ['owner'] as const;

export const CompanyList = z
  .object({ data: z.array(Company), nextCursor: z.string().nullable() })
  .meta({ id: 'CompanyList' });

export function toCompanyDto(r: CompanyRow): CompanyDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    name: r.name,
    domain: r.domain,
    industry: r.industry,
    employees: r.employees,
    annualRevenue: formatMoney(r.annualRevenue, r.currency),
    currency: r.currency,
    phone: r.phone,
    address: r.address,
    tags: r.tags,
    externalIds: r.externalIds,
    ownerId: r.ownerId,
    teamId: r.teamId,
    custom: r.custom,
  };
}

export const CompanyId = z.object({ id: Uuid });

/** `id`, `domain` or `externalId.<system>`: how batch records find the company they mean (as contacts do). */
export const CompanyIdProperty = z
  .string()
  .regex(/^(id|domain|externalId\.[a-z0-9][a-z0-9_-]{0,49})$/, 'must be id, domain or externalId.<system>')
  .describe('How records are matched: id, domain or externalId.<system>; default id');

export const CompanyBatch = z
  .object({
    operation: z.enum(['create', 'update', 'upsert', 'delete']),
    idProperty: CompanyIdProperty.optional(),
    records: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_BATCH),
    atomic: z.boolean().optional().describe('true: all records commit or none'),
  })
  .strict()
  .meta({ id: 'CompanyBatch' });
