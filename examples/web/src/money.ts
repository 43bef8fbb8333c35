// Money arrives as decimal strings ("1200.5000") and is added here in exact units of 1/10000, never as
// floats, so a column's total is the sum the server would compute.

const SCALE = 10_000n;

function toUnits(amount: string): bigint {
  const negative = amount.startsWith('-');
  const [whole = '0', fraction = ''] = amount.replace('-', '').split('.');
  const units = BigInt(whole) * SCALE + BigInt(fraction.padEnd(4, '0').slice(0, 4));
  return negative ? -units : units;
}

function fromUnits(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  return `${sign}${abs / SCALE}.${(abs % SCALE).toString().padStart(4, '0')}`;
}

/** Sums amounts per currency: `[{amount: "1.50", currency: "SAR"}, …]` → `{ SAR: "…" }`. */
export function totalsByCurrency(items: { amount?: string | null; currency?: string | null }[]): Record<string, string> {
  const units = new Map<string, bigint>();
  for (const { amount, currency } of items) {
    if (amount && currency) units.set(currency, (units.get(currency) ?? 0n) + toUnits(amount));
  }
  return Object.fromEntries([...units].map(([currency, u]) => [currency, fromUnits(u)]));
}
