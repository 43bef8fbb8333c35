import { parseArgs } from 'node:util';

// npm run bench [-- --quick] [--contacts N] [--seconds N] [--connections N] [--import-rows N] [--keep]
//   [--database NAME]  measure an existing database seeded by `npm run seed:demo -- --seed 1` instead of
//                      seeding a scratch one (a 1 M seed takes long; the database is kept, and grows by
//                      the rows the write scenarios add)
//   [--only get,graphql]  the baseline and these scenarios alone (keys: bench/scenarios.ts SCENARIO_KEYS),
//                      no import, analytics or pgbench; printed, no results file (it would not be a whole run)
// Environment: BENCH_DATABASE_URL, a server where the bench may create and drop a scratch database.

export interface BenchOptions {
  quick: boolean;
  contacts: number;
  seconds: number;
  connections: number;
  importRows: number;
  /** keep the scratch database afterwards (to look at plans by hand) */
  keep: boolean;
  /** an already seeded database (seed 1) on the same server: no seeding, never dropped */
  database: string | undefined;
  /** scenario keys to run alone (SCENARIO_KEYS); undefined: everything */
  only: string[] | undefined;
  adminUrl: string;
}

export function benchOptions(argv = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      contacts: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      'import-rows': { type: 'string' },
      keep: { type: 'boolean', default: false },
      database: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const num = (v: string | undefined, fallback: number, name: string) => {
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a whole number above 0`);
    return n;
  };
  if (values.database !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(values.database)) throw new Error('--database: a plain database name');
  const contacts = num(values.contacts, quick ? 5_000 : 1_000_000, 'contacts');
  return {
    quick,
    contacts,
    seconds: num(values.seconds, quick ? 3 : 10, 'seconds'),
    connections: num(values.connections, quick ? 20 : 50, 'connections'),
    importRows: num(values['import-rows'], quick ? 500 : contacts, 'import-rows'),
    keep: values.keep ?? false,
    database: values.database,
    only: values.only?.split(',').map((k) => k.trim()).filter(Boolean),
    adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
}
