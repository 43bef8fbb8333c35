import { minorUnits } from '../platform/http/money.js';

// Amounts are drawn as whole minor units (fils, halalas, cents) and written as exact decimal strings
// with the currency's own number of decimals, as the service accepts them: KWD 3, SAR 2.

export const GULF_CURRENCIES = ['SAR', 'AED', 'KWD'] as const;
export const CURRENCIES = ['SAR', 'AED', 'KWD', 'EUR', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];

const digits = new Map<string, number>(CURRENCIES.map((c) => [c, minorUnits(c)]));

export const minorDigits = (currency: string) => digits.get(currency) ?? minorUnits(currency);

/** 12345 minor units of KWD → "12.345"; of SAR → "123.45" */
export function fromMinor(minor: number, currency: string): string {
  const d = minorDigits(currency);
  if (d === 0) return String(minor);
  const neg = minor < 0;
  const s = String(Math.abs(minor)).padStart(d + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -d)}.${s.slice(-d)}`;
}

/** a price of about `major` whole units, in minor units of the currency */
export const minorOf = (major: number, currency: string) => Math.round(major * 10 ** minorDigits(currency));
