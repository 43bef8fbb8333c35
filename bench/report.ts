import type { AnalyticsTiming, SlowestPlan } from './analytics.js';
import type { ImportResult } from './import-csv.js';
import type { ScenarioResult } from './load.js';
import type { Machine } from './machine.js';
import type { PgbenchResult } from './pgbench.js';

// The run's results as one JSON document (bench/results/<date>.json) and a markdown summary.

export interface BenchResults {
  at: string;
  quick: boolean;
  scale: Record<string, number>;
  /** null when the run measured a database seeded beforehand (--database) */
  seedSeconds: number | null;
  seconds: number;
  connections: number;
  machine: Machine;
  baseline: ScenarioResult;
  scenarios: ScenarioResult[];
  import: ImportResult;
  ratios: { restByIdToBaseline: number | null; graphqlByIdToRest: number | null };
  pgbench: PgbenchResult | { skipped: string };
  analytics: AnalyticsTiming[];
  slowestAnalytics?: SlowestPlan | undefined;
  errors: number;
}

export function markdown(r: BenchResults): string {
  // a scenario in which no request completed says so, instead of a misleading 0 req/s
  const rows = [r.baseline, ...r.scenarios].map((s) =>
    `| ${s.scenario} | ${s.requests === 0 ? 'none completed in the run' : s.requestsPerSecond} | ${s.p50ms} | ${s.p99ms} | ${s.errors}${Object.keys(s.statuses).length ? ` (${Object.entries(s.statuses).map(([c, n]) => `${n}×${c}`).join(', ')})` : ''} | ${s.peakRssMb} |`);
  const im = r.import;
  const pgb = 'skipped' in r.pgbench ? `pgbench: skipped (${r.pgbench.skipped})` : `pgbench ceiling, same SELECT: ${r.pgbench.transactionsPerSecond} tps (${r.pgbench.clients} clients, ${r.pgbench.averageLatencyMs} ms average)`;
  const m = r.machine;
  return [
    `## Bench ${r.at}${r.quick ? ' (quick)' : ''}`,
    '',
    `Scale: ${Object.entries(r.scale).map(([k, v]) => `${v} ${k}`).join(', ')} (${r.seedSeconds === null ? 'seeded beforehand' : `seeded in ${r.seedSeconds} s`}). ${r.seconds} s a scenario, ${r.connections} connections.`,
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.ramGb} GB RAM, load average ${m.loadAverageAtStart.join(' / ')} at start and ${m.loadAverageAtEnd?.join(' / ')} at end; Node ${m.node}, PostgreSQL ${m.postgres}.`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | errors | server RSS MB (peak) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    `| ${im.scenario} | ${im.rowsPerSecond} rows/s | | ${im.seconds} s total | ${im.errors} | ${im.peakRssMb} |`,
    '',
    `REST by id ÷ baseline = **${r.ratios.restByIdToBaseline ?? 'n/a'}**; GraphQL by id ÷ REST by id = **${r.ratios.graphqlByIdToRest ?? 'n/a'}**. ${pgb}.`,
    '',
    `| analytics endpoint | status | median ms | max ms | ≤ 500 ms |`,
    '|---|---:|---:|---:|:---:|',
    ...r.analytics.map((a) => `| ${a.path} | ${a.status} | ${a.medianMs} | ${a.maxMs} | ${a.withinTarget ? 'yes' : '**no**'} |`),
    '',
    ...(r.slowestAnalytics
      ? [`Slowest analytics endpoint ${r.slowestAnalytics.path}: its slowest statement took ${r.slowestAnalytics.statementMs} ms.`, '', '```', r.slowestAnalytics.plan, '```']
      : []),
    '',
    `Errors in all: ${r.errors}.`,
  ].join('\n');
}
