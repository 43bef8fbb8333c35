import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { AppError, type FieldError, validationFailed } from '../../platform/errors/app-error.js';
import { normalisePhones } from '../../platform/http/phone.js';
import { type ContactPatchInput, IDENTIFYING_FIELDS } from './contact.schema.js';
import type { ContactRow } from './contact.table.js';
import { companies } from './company.table.js';
import type { ValidateCustom } from './custom-values.js';

const ENTITY = 'contact';

/** Checks what zod cannot: phones, the one-identifying-field rule, custom values, the company. */
export async function checkContact<T extends ContactPatchInput>(
  tx: Executor, input: T, current: ContactRow | undefined, o: { defaultPhoneRegion: string; validateCustom: ValidateCustom },
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
  if (input.companyId && input.companyId !== current?.companyId) {
    const found = await tx.select({ id: companies.id }).from(companies)
      .where(and(eq(companies.id, input.companyId), isNull(companies.deletedAt)));
    if (!found[0]) {
      throw new AppError('invalid_reference', 'The company does not exist', {
        errors: [{ path: 'companyId', message: 'does not reference an existing company' }],
      });
    }
  }
  return input.custom !== undefined || !current ? { ...out, custom: custom.values } : out;
}
