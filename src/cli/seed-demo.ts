import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../platform/db/open.js';
import { runMigrations } from '../platform/db/migrations.js';
import { SeedRefused, seedDemo } from '../seed/seed.js';
import { scaleFor, totalRows } from '../seed/scale.js';

// npm run seed:demo [-- --contacts 10000 --seed 1 --until 2026-12-01]: migrates the configured
// database (DATABASE_URL, else the embedded one in DATA_DIR that `npm start` uses) and fills it with
// demo data, then prints the logins.

const USAGE = 'usage: npm run seed:demo -- [--contacts N] [--seed N] [--until YYYY-MM-DD]';

function options() {
  const { values } = parseArgs({
    options: { contacts: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' }, until: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const contacts = Number(values.contacts);
  const seed = Number(values.seed);
  const until = values.until ? new Date(`${values.until}T00:00:00Z`) : undefined;
  const problems = [
    ...(Number.isInteger(contacts) && contacts >= 10 && contacts <= 50_000_000 ? [] : ['--contacts: a whole number from 10 to 50000000']),
    ...(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31 ? [] : ['--seed: a whole number from 0 to 2147483647']),
    ...(until && Number.isNaN(until.getTime()) ? ['--until: a date such as 2026-12-01'] : []),
  ];
  if (problems.length) {
    console.error(`${problems.join('\n')}\n${USAGE}`);
    process.exit(64); // EX_USAGE
  }
  return { contacts, seed, until };
}

function progressReporter(total: number) {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'seeding {bar} {percentage}% | {value}/{total} rows | {table}', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { table: '' });
    return { tick: (table: string, n: number) => bar.increment(n, { table }), stop: () => bar.stop() };
  }
  let last = '';
  return {
    tick: (table: string) => {
      if (table !== last) console.log(`seeding ${(last = table)}…`);
    },
    stop: () => undefined,
  };
}

let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(78); // EX_CONFIG
  }
  throw e;
}
const o = options();
const database = await openDatabase(config);
const started = Date.now();
try {
  await runMigrations(database);
  const scale = scaleFor(o.contacts);
  console.log(`seed ${o.seed} into ${database.kind === 'pglite' ? `the embedded database in ${config.dataDir}` : 'PostgreSQL'}: ${JSON.stringify(scale)}`);
  // about one line, comment, event or ledger row per row counted in the scale
  const progress = progressReporter(Math.round(totalRows(scale) * 2.6));
  const result = await seedDemo(database, { scale, seed: o.seed, ...(o.until ? { until: o.until } : {}), onProgress: progress.tick })
    .finally(() => progress.stop());
  console.log(`\n${Object.entries(result.rows).map(([t, n]) => `${t}: ${n}`).join(', ')}`);
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s. Sign in with POST /v1/auth/login as:`);
  console.table(result.logins.map(({ role, email, password, name }) => ({ role, email, password, name })));
} catch (e) {
  if (e instanceof SeedRefused) {
    console.error(e.message);
    process.exitCode = 1;
  } else {
    throw e;
  }
} finally {
  await database.close();
}
