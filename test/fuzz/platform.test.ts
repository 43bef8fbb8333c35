import t from 'tap';
import { fuzzGroup } from './lib/run-group.js';
import { FUZZ_GROUPS } from './lib/groups.js';
import { loadApiDocument } from './lib/openapi-operations.js';

// Generated requests against the platform operations of openapi.yaml (health, auth, identity,
// analytics, audit, tracking links), and the check that the four groups cover every operation.

t.test('every operation of openapi.yaml is in exactly one fuzz group', async (t) => {
  const misplaced = loadApiDocument().operations
    .map((op) => ({ op, groups: Object.entries(FUZZ_GROUPS).filter(([, p]) => p.test(op.path)).map(([g]) => g) }))
    .filter((x) => x.groups.length !== 1)
    .map((x) => `${x.op.method} ${x.op.path}: ${x.groups.join(', ') || 'no group'}`);
  t.same(misplaced, []);
});

t.test('generated requests: zero 5xx, every response as declared', async (t) => {
  const report = await fuzzGroup(t, 'platform');
  t.comment(`platform: ${report.operations} operations, ${report.cases} cases, by status ${JSON.stringify(report.byStatus)}`);
  t.same(report.failures, [], 'no 5xx, and every response matches its declared status, content type and schema');
});
