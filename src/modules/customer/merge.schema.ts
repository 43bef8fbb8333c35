import { z } from 'zod';
import { Uuid } from '../../platform/http/common.schema.js';
import { AppError } from '../../platform/errors/app-error.js';

/** at most this many duplicates per merge: one request, one transaction, a bounded set of locks */
export const MAX_DUPLICATES = 10;

const mergeInput = (entity: string) =>
  z
    .object({
      primaryId: Uuid.describe(`the ${entity} that survives`),
      duplicateIds: z.array(Uuid).min(1).max(MAX_DUPLICATES)
        .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id')
        .describe(`1–${MAX_DUPLICATES} ${entity} ids merged into the primary and then deleted (mergedIntoId)`),
    })
    .strict();

export const ContactMerge = mergeInput('contact').meta({ id: 'ContactMerge' });
export const CompanyMerge = mergeInput('company').meta({ id: 'CompanyMerge' });
export type MergeInput = z.infer<typeof ContactMerge>;

/** what a merge moved, by kind of link: `{activities: 3, orders: 1, …}` (the contact.merged event carries it) */
export type MovedCounts = Record<string, number>;

/** The problem extension of a merged record's 404: where its data went (`mergedIntoId`). */
export const mergedInto = (row: { deletedAt: Date | null; mergedIntoId: string | null } | undefined) =>
  row?.deletedAt && row.mergedIntoId ? { mergedIntoId: row.mergedIntoId } : undefined;

/** A merge is not undone by a restore: the links and fields moved to the surviving record. */
export const mergedConflict = (entity: string, mergedIntoId: string) =>
  new AppError('conflict', `The ${entity} was merged into ${mergedIntoId}; a merge cannot be restored`, { extensions: { mergedIntoId } });
