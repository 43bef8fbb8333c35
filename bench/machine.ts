import { cpus, freemem, loadavg, totalmem } from 'node:os';
import pg from 'pg';

// What the figures were measured on: they mean little without it, and the lead re-runs the full
// scale on a quiet machine to compare.

export interface Machine {
  cores: number;
  cpuModel: string;
  ramGb: number;
  freeRamGbAtStart: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  node: string;
  postgres: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

export async function describeMachine(url: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  await client.end();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    ramGb: round(totalmem() / 2 ** 30),
    freeRamGbAtStart: round(freemem() / 2 ** 30),
    loadAverageAtStart: loadavg().map(round),
    node: process.version,
    postgres: version,
  };
}

export const loadAverageNow = () => loadavg().map(round);
