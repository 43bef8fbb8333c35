import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/app.js';
import { connectPostgres } from '../src/platform/db/client.js';
import { explainAnalyze, recordQueries } from './explain.js';

// Every analytics endpoint of the contract (read from openapi.yaml, so a new one is measured
// without touching the bench), each requested a few times one after another on the running
// service: the target is ≤ 500 ms each at full scale. The slowest is then explained.

export const ANALYTICS_TARGET_MS = 500;
const RUNS = 3;

export interface AnalyticsTiming { path: string; status: number; medianMs: number; maxMs: number; withinTarget: boolean }

export function analyticsPaths(): string[] {
  const spec = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, { get?: unknown }> };
  return Object.keys(spec.paths).filter((p) => p.startsWith('/v1/analytics/') && spec.paths[p]!.get && !p.includes('{'));
}

export async function timeAnalytics(base: string, token: string): Promise<AnalyticsTiming[]> {
  const out: AnalyticsTiming[] = [];
  for (const path of analyticsPaths()) {
    const times: number[] = [];
    let status = 0;
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      times.push(performance.now() - started);
      status = r.status;
    }
    times.sort((a, b) => a - b);
    const medianMs = Math.round(times[Math.floor(RUNS / 2)]!);
    out.push({ path, status, medianMs, maxMs: Math.round(times[RUNS - 1]!), withinTarget: medianMs <= ANALYTICS_TARGET_MS });
  }
  return out;
}

export interface SlowestPlan { path: string; statementMs: number; statement: string; plan: string }

/** Runs `path` once in this process with the service's own code, and EXPLAIN ANALYZEs its slowest statement. */
export async function explainSlowest(path: string, databaseUrl: string, env: Record<string, string>, token: string): Promise<SlowestPlan | undefined> {
  const config = loadConfig({ ...env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
  const database = connectPostgres({ url: databaseUrl, poolMax: 4, statementTimeoutMs: 600_000 });
  const app = await buildApp({ config, database, startWorkers: false });
  try {
    await app.ready();
    const { queries } = await recordQueries(() => app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } }));
    const slowest = queries.filter((q) => /^\s*(select|with)/i.test(q.text)).sort((a, b) => b.ms - a.ms)[0];
    if (!slowest) return undefined;
    return { path, statementMs: Math.round(slowest.ms), statement: slowest.text, plan: await explainAnalyze(databaseUrl, slowest) };
  } finally {
    await app.close();
    await database.close();
  }
}
