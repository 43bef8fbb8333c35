import { z } from 'zod';
import { Uuid } from '../../platform/http/common.schema.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { COMPANY_REASONS, CONTACT_REASONS, CONTACT_WEIGHTS, COMPANY_WEIGHTS, NAME_SIMILARITY, type PairRow } from './duplicate.repository.js';

const weights = (w: Record<string, number>) => Object.entries(w).map(([k, v]) => `${k} ${v}`).join(', ');

export const DuplicateQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`Page size, 1–${MAX_LIMIT}, default 50`),
    cursor: z.string().max(2048).optional().describe('The nextCursor of the previous page'),
    minScore: z.coerce.number().int().min(0).max(100).optional().describe('Only pairs scoring at least this (0–100)'),
  })
  .strict();

export type DuplicateQueryInput = z.infer<typeof DuplicateQuery>;

export const ContactDuplicate = z
  .object({
    contactIds: z.array(Uuid).length(2),
    score: z.number().int().min(0).max(100)
      .describe(`0–100: the sum of the reasons' weights (${weights(CONTACT_WEIGHTS)}), at most 100`),
    reasons: z.array(z.enum(CONTACT_REASONS))
      .describe(`names compare after Arabic and Latin normalisation, similar from trigram similarity ${NAME_SIMILARITY}; same_company never alone`),
  })
  .meta({ id: 'ContactDuplicate' });

export const CompanyDuplicate = z
  .object({
    companyIds: z.array(Uuid).length(2),
    score: z.number().int().min(0).max(100)
      .describe(`0–100: the sum of the reasons' weights (${weights(COMPANY_WEIGHTS)}), at most 100`),
    reasons: z.array(z.enum(COMPANY_REASONS))
      .describe('same_domain: equal without a leading www.; same_phone never alone'),
  })
  .meta({ id: 'CompanyDuplicate' });

export const ContactDuplicateList = z
  .object({ data: z.array(ContactDuplicate), nextCursor: z.string().nullable() })
  .meta({ id: 'ContactDuplicateList' });
export const CompanyDuplicateList = z
  .object({ data: z.array(CompanyDuplicate), nextCursor: z.string().nullable() })
  .meta({ id: 'CompanyDuplicateList' });

export type ContactDuplicateDto = z.infer<typeof ContactDuplicate>;
export type CompanyDuplicateDto = z.infer<typeof CompanyDuplicate>;

export const toContactDuplicate = (r: PairRow): ContactDuplicateDto => ({
  contactIds: [r.aId, r.bId], score: r.score, reasons: r.reasons as ContactDuplicateDto['reasons'],
});
export const toCompanyDuplicate = (r: PairRow): CompanyDuplicateDto => ({
  companyIds: [r.aId, r.bId], score: r.score, reasons: r.reasons as CompanyDuplicateDto['reasons'],
});
