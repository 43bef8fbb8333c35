import type { Operation } from './openapi-operations.js';

// The operations of openapi.yaml in four groups, one test file each, so the fuzz runs in parallel
// jobs. Every operation belongs to exactly one group: test/fuzz/platform.test.ts fails otherwise.

export const FUZZ_GROUPS: Record<string, RegExp> = {
  customer: /^\/v1\/(companies|contacts|custom-fields|activities|orders|feedback|unsubscribe)(\/|$)/,
  'pipeline-service': /^\/v1\/(pipelines|forecast|deals|leads|scoring-rules|sla-policies|tickets)(\/|$)/,
  'marketing-integration': /^\/v1\/(segments|campaigns|workflows|events|webhooks|imports)(\/|$)/,
  platform: /^\/(health|ready|t\/|v1\/(auth|me|users|teams|api-keys|analytics|audit-logs))(\/|$)?/,
};

export function operationsOf(group: string, all: Operation[]): Operation[] {
  const pattern = FUZZ_GROUPS[group];
  if (!pattern) throw new Error(`no fuzz group ${group}`);
  return all.filter((op) => pattern.test(op.path));
}

/** The order a group's operations run in: creates first (their ids feed the rest), deletes last. */
export function runOrder(ops: Operation[]): Operation[] {
  const rank = (op: Operation) => {
    if (op.method === 'POST' && !op.path.includes('{')) return 0;
    if (op.method === 'GET') return 1;
    if (op.method === 'DELETE') return 3;
    return 2;
  };
  return [...ops].sort((a, b) => rank(a) - rank(b));
}
