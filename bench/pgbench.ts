import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

// The ceiling: PostgreSQL alone answering the SELECT of GET contact by id (prepared), driven by
// pgbench with the same number of clients. The ids come from a small side table, so each
// transaction is two index lookups (the id, then the contact): a slightly low ceiling, never a high one.

export interface PgbenchResult { scenario: string; transactionsPerSecond: number; averageLatencyMs: number; clients: number }

const run = promisify(execFile);

export async function pgbenchCeiling(url: string, ids: string[], o: { seconds: number; clients: number }): Promise<PgbenchResult | { skipped: string }> {
  try {
    await run('pgbench', ['--version']);
  } catch {
    return { skipped: 'pgbench is not installed' };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // dropped afterwards: a database measured in place (--database) is measured again later
  await c.query('DROP TABLE IF EXISTS bench_ids');
  await c.query('CREATE TABLE bench_ids (n int PRIMARY KEY, id uuid NOT NULL)');
  await c.query('INSERT INTO bench_ids SELECT ord, id::uuid FROM unnest($1::text[]) WITH ORDINALITY AS t(id, ord)', [ids]);
  const script = join(tmpdir(), `crm-bench-${process.pid}.sql`);
  writeFileSync(script, `\\set k random(1, ${ids.length})\nSELECT * FROM contacts WHERE id = (SELECT id FROM bench_ids WHERE n = :k) LIMIT 1;\n`);
  let stdout: string;
  try {
    ({ stdout } = await run('pgbench', ['-n', '-M', 'prepared', '-f', script, '-c', String(o.clients), '-j', '2', '-T', String(o.seconds), url]));
  } finally {
    await c.query('DROP TABLE bench_ids');
    await c.end();
  }
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? 0);
  return { scenario: 'pgbench: the same SELECT, prepared', transactionsPerSecond: Math.round(tps), averageLatencyMs: latency, clients: o.clients };
}
