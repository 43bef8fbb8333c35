import { and, inArray, isNull } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { AppError, type FieldError, validationFailed } from '../../platform/errors/app-error.js';
import { normalisePhones } from '../../platform/http/phone.js';
import { type ContactPatchInput, IDENTIFYING_FIELDS } from './contact.schema.js';
import type { ContactRow } from './contact.table.js';
import { companies } from './company.table.js';
import type { ValidateCustom } from './custom-values.js';

const ENTITY = 'contact';

export interface CheckOptions {
  defaultPhoneRegion: string;
  validateCustom: ValidateCustom;
}

/** Checks what zod cannot: phones, the one-identifying-field rule, custom values, the company. */
export async function checkContact<T extends ContactPatchInput>(
  tx: Executor, input: T, current: ContactRow | undefined, o: CheckOptions,
): Promise<T> {
  const out = await checkContactFields(tx, input, current, o);
  if (companyToCheck(input, current) && (await liveCompanyIds(tx, [input.companyId as string])).size === 0) throw missingCompany();
  return out;
}

/** checkContact without the company lookup, which a batch does once for all its records. */
export async function checkContactFields<T extends ContactPatchInput>(
  tx: Executor, input: T, current: ContactRow | undefined, o: CheckOptions,
): Promise<T> {
  const errors: FieldError[] = [];
  const out = normalisePhones(input, ['phone', 'additionalPhones'], o.defaultPhoneRegion, errors);
  const merged = { ...current, ...out } as Record<string, unknown>;
  if (IDENTIFYING_FIELDS.every((f) => merged[f] === null || merged[f] === undefined)) {
    errors.push({ path: '(root)', message: `needs one of ${IDENTIFYING_FIELDS.join(', ')}` });
  }
  // Runs on create even without `custom`: required custom fields must then be reported missing.
  // through the write's transaction: PGlite has one connection, which the transaction holds
  const custom = await o.validateCustom(ENTITY, input.custom ?? {}, current ? 'patch' : 'create', tx);
  errors.push(...custom.errors);
  if (errors.length) throw validationFailed(errors);
  return input.custom !== undefined || !current ? { ...out, custom: custom.values } : out;
}

/** The company a write names and must therefore exist (a new one, or a change), else undefined. */
export const companyToCheck = (input: ContactPatchInput, current: ContactRow | undefined): string | undefined =>
  input.companyId && input.companyId !== current?.companyId ? input.companyId : undefined;

/** Which of these companies exist and are live: one query for any number. */
export async function liveCompanyIds(tx: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const found = await tx.select({ id: companies.id }).from(companies).where(and(inArray(companies.id, [...ids]), isNull(companies.deletedAt)));
  return new Set(found.map((r) => r.id));
}

export const missingCompany = () =>
  new AppError('invalid_reference', 'The company does not exist', {
    errors: [{ path: 'companyId', message: 'does not reference an existing company' }],
  });
