import { z } from 'zod';

const KNOWN = new Set(Intl.supportedValuesOf('currency'));

// Building an Intl.NumberFormat costs tens of microseconds, and every money field of every response
// asks: a 50-row page of deals asked 50 times. The answer per currency never changes, so it is kept
// (for known codes only, so the map is bounded by ICU's list, whatever a caller sends).
const minorUnitsByCurrency = new Map<string, number>();

/** Minor units of an ISO 4217 currency (KWD 3, JPY 0, EUR 2) as the runtime's ICU knows them. */
export function minorUnits(currency: string): number {
  const known = minorUnitsByCurrency.get(currency);
  if (known !== undefined) return known;
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  if (KNOWN.has(currency)) minorUnitsByCurrency.set(currency, digits);
  return digits;
}

let nonDecimalMinorUnits: string | undefined;

/**
 * The currencies whose minor units are not 2, as a JSON object ({"JPY":0,"KWD":3,…}) for rounding in
 * SQL. Built on first use (an Intl.NumberFormat for each of ICU's ~160 currencies), not when the
 * module loads: most processes that load the app never round money in SQL.
 */
export function nonDecimalMinorUnitsJson(): string {
  nonDecimalMinorUnits ??= JSON.stringify(
    Object.fromEntries([...KNOWN].map((c) => [c, minorUnits(c)]).filter(([, d]) => d !== 2)),
  );
  return nonDecimalMinorUnits;
}

export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as SAR')
  .refine((c) => KNOWN.has(c), 'is not a known ISO 4217 currency');

/** A decimal string such as "1234.50": never a float, so no cent is ever lost. */
export const decimalString = z
  .string()
  .regex(/^-?\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string such as "1234.50"');

/** Renders a numeric(19,4) value with exactly the currency's minor units ("1234.5000" KWD → "1234.500"). */
export function formatMoney(value: string | null, currency: string | null): string | null {
  if (value === null) return null;
  const [int, frac = ''] = value.split('.');
  const digits = currency ? minorUnits(currency) : 2;
  const padded = (frac + '0000').slice(0, 4);
  return digits === 0 ? `${int}` : `${int}.${padded.slice(0, digits)}`;
}

/** True when the value has no more decimals than the currency allows. */
export function fitsCurrency(value: string, currency: string): boolean {
  const frac = value.split('.')[1] ?? '';
  return frac.replace(/0+$/, '').length <= minorUnits(currency);
}
