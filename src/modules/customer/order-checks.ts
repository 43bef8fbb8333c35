import type { FieldError } from '../../platform/errors/app-error.js';
import { fitsCurrency, minorUnits } from '../../platform/http/money.js';
import type { OrderPatchInput, OrderRecord, StoredLine } from './order.schema.js';

// What zod cannot check about an order: money exact to its currency's minor unit (KWD 3 decimals,
// JPY 0), and the total against its lines. Rule (a contract decision, documented on the API): when an
// order has lines, its total equals Σ quantity × unitPrice exactly, else 400 at `total`. Integrators
// send both; a mismatch is a bug on their side that silently "fixing" would hide.

const SCALE = 4; // numeric(19,4): every stored decimal is an integer count of 10^-4

/** "12.345" → 123450n (units of 10^-4); exact, no float on the way. */
function units(v: string): bigint {
  const neg = v.startsWith('-');
  const [int = '0', frac = ''] = (neg ? v.slice(1) : v).split('.');
  const n = BigInt(int + (frac + '0'.repeat(SCALE)).slice(0, SCALE));
  return neg ? -n : n;
}

/** numeric text compares by value, as the column stores it ("12.3" = "12.3000") */
export const sameDecimal = (a: string, b: string) => units(a) === units(b);

/** A value at scale 2×SCALE as a decimal string with at least the currency's minor units. */
function render(v: bigint, currency: string): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(2 * SCALE + 1, '0');
  const int = digits.slice(0, -2 * SCALE);
  const frac = digits.slice(-2 * SCALE).replace(/0+$/, '').padEnd(minorUnits(currency), '0');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Σ quantity × unitPrice, exactly, at scale 2×SCALE. */
export function linesSum(lines: readonly StoredLine[]): bigint {
  return lines.reduce((sum, l) => sum + units(l.quantity) * units(l.unitPrice), 0n);
}

/** Input lines as stored: quantity as its exact decimal text. */
export function toStoredLines(lines: NonNullable<OrderPatchInput['lines']>): StoredLine[] {
  return lines.map((l) => ({ sku: l.sku ?? null, name: l.name, quantity: String(l.quantity), unitPrice: l.unitPrice }));
}

/** Every money error of the write, each at the path the caller wrote (or `currency` when only it changed). */
export function checkOrderMoney(input: OrderPatchInput, current: OrderRecord | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const currency = input.currency ?? current?.currency;
  const total = input.total ?? current?.total;
  if (!currency || total === undefined) return errors;
  const lines = input.lines ? toStoredLines(input.lines) : current?.lines ?? [];
  const currencyChanged = input.currency !== undefined && input.currency !== current?.currency;

  if ((input.total !== undefined || currencyChanged) && !fitsCurrency(total, currency)) {
    errors.push(input.total !== undefined
      ? { path: 'total', message: `has more decimals than ${currency} allows (${minorUnits(currency)})` }
      : { path: 'currency', message: `allows fewer decimals than the total ${total}` });
  }
  if (input.lines !== undefined) {
    lines.forEach((l, i) => {
      if (!fitsCurrency(l.unitPrice, currency)) {
        errors.push({ path: `lines.${i}.unitPrice`, message: `has more decimals than ${currency} allows (${minorUnits(currency)})` });
      }
    });
  } else if (currencyChanged && lines.some((l) => !fitsCurrency(l.unitPrice, currency))) {
    errors.push({ path: 'currency', message: 'allows fewer decimals than the unit prices of the lines' });
  }
  if (errors.length === 0 && (input.lines !== undefined || input.total !== undefined) && lines.length > 0) {
    const sum = linesSum(lines);
    if (sum !== units(total) * 10n ** BigInt(SCALE)) {
      errors.push({ path: 'total', message: `must equal the sum of the lines (quantity × unitPrice): ${render(sum, currency)}` });
    }
  }
  return errors;
}
