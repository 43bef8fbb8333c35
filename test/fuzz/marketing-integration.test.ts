import t from 'tap';
import { fuzzGroup } from './lib/run-group.js';

// Generated requests against the marketing-integration operations of openapi.yaml (see lib/run-group.ts).
t.test('generated requests: zero 5xx, every response as declared', async (t) => {
  const report = await fuzzGroup(t, 'marketing-integration');
  t.comment(`marketing-integration: ${report.operations} operations, ${report.cases} cases, by status ${JSON.stringify(report.byStatus)}`);
  t.same(report.failures, [], 'no 5xx, and every response matches its declared status, content type and schema');
});
