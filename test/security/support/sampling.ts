// npm test runs the security suites in a quick form that keeps every operation and every kind of
// check but samples the roles and fields per operation, rotating so that each role and field still
// comes up across operations. SECURITY_MATRIX=full (npm run test:security) runs every cell.

export const FULL = process.env.SECURITY_MATRIX === 'full';

/** All items in the full form; otherwise `n` of them, starting at `seed` and wrapping around. */
export function sample<T>(items: readonly T[], seed: number, n = 1): T[] {
  if (FULL || items.length <= n) return [...items];
  return Array.from({ length: n }, (_, k) => items[(seed + k) % items.length]!);
}
