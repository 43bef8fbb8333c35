import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { FieldError } from '../errors/app-error.js';

/**
 * Answers by input and region, most recent PARSED_MAX of them: parsing and validating against the full
 * metadata was ~40 µs a number, the largest part of checking a batch record, and syncs and imports send
 * the same numbers again and again (an upsert of unchanged records parses every one of them anew).
 */
const PARSED_MAX = 20_000;
const parsed = new Map<string, Readonly<{ ok: string } | { error: string }>>();

/**
 * A phone number as written by a person → E.164. Numbers without `+` are read in `region`
 * (DEFAULT_PHONE_REGION). Returns an error message instead when it is not a valid number.
 */
export function toE164(text: string, region: string): { ok: string } | { error: string } {
  const key = `${region}\u0000${text}`;
  const known = parsed.get(key);
  if (known) return known;
  const phone = parsePhoneNumberFromString(text, region as CountryCode);
  const result = !phone || !phone.isValid() ? { error: `is not a valid phone number (numbers without + are read as ${region})` } : { ok: phone.number as string };
  if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value as string); // the first kept
  parsed.set(key, result);
  return result;
}

/** Normalises the phone fields of an input in place; collects errors instead of throwing. */
export function normalisePhones<T extends Record<string, unknown>>(
  input: T,
  fields: readonly string[],
  region: string,
  errors: FieldError[],
): T {
  const out: Record<string, unknown> = { ...input };
  for (const f of fields) {
    const v = out[f];
    if (typeof v === 'string') {
      const r = toE164(v, region);
      if ('ok' in r) out[f] = r.ok;
      else errors.push({ path: f, message: r.error });
    } else if (Array.isArray(v)) {
      out[f] = v.map((item, i) => {
        const r = toE164(String(item), region);
        if ('ok' in r) return r.ok;
        errors.push({ path: `${f}.${i}`, message: r.error });
        return item;
      });
    }
  }
  return out as T;
}
