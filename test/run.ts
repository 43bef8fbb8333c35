// Runs the tap suite. With a PostgreSQL server (TEST_DATABASE_URL, as CI sets it) every file runs but
// the scale tests; `--full` runs them all. On in-memory PGlite — a machine with nothing installed — the quick form runs instead:
// the domain modules' tests and the unit tests, leaving out the platform suites below (faults,
// concurrency, the generated-request fuzz, security, contract, integration, identity, the roles matrix, GraphQL limits, the CLI), which change rarely,
// take a third of the time on PGlite, and always run in CI. `npm run test:full` runs them anywhere.
import { readdirSync } from 'node:fs';
import { longestFirst, saveDurations } from './helpers/suite-order.js';
import { runFiles } from './helpers/suite-runner.js';

const FULL_ONLY = [
  'test/faults/**',
  'test/concurrency/**',
  'test/fuzz/customer.test.ts',
  'test/fuzz/pipeline-service.test.ts',
  'test/fuzz/marketing-integration.test.ts',
  'test/fuzz/platform.test.ts',
  'test/security/**',
  'test/contract/**',
  'test/integration/**',
  'test/api/identity-*.test.ts',
  'test/api/roles-matrix.test.ts',
  'test/api/graphql-limits.test.ts',
  'test/api/http-plumbing.test.ts',
  // a dozen CLI processes, each opening the embedded database from disk: minutes on PGlite
  'test/cli/**',
];

/** Several server processes on one database: PGlite belongs to one process, so these need a server. */
const NEEDS_SERVER = ['test/integration/two-processes.test.ts'];

/** Scale measurements (a 100k-row import): minutes of one job for a figure, so only in the full form. */
const SCALE = ['test/**/*-scale.test.ts'];

/**
 * Chromium-driven tests (`npm run test:browser`: they need /usr/bin/chromium) and the CLI's, a dozen
 * child processes that each load the whole application (`npm run test:cli`, 100 s of a 2-core
 * machine): CI runs both as steps of their own, which keeps `npm test` within its 10 minutes.
 */
const BROWSER = ['test/browser/**', 'test/cli/**'];

const server = Boolean(process.env.TEST_DATABASE_URL);
const full = process.argv.includes('--full');
// On a server the test processes wait on PostgreSQL part of the time: four at once finish the suite
// about 15 % sooner on 2 cores. PGlite runs the database inside each test process, so two is the most.
const left = [...BROWSER, ...(full ? [] : server ? SCALE : [...FULL_ONLY, ...SCALE]), ...(server ? [] : NEEDS_SERVER)];

/** 'test/**' and 'test/api/identity-*.test.ts' style patterns as regular expressions */
const asRegExp = (glob: string) =>
  new RegExp(`^${glob.split('**').map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('.*')}$`);
const excluded = left.map(asRegExp);
const files = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .map((f) => `test/${f}`)
  .filter((f) => f.endsWith('.test.ts') && !excluded.some((re) => re.test(f)));
const ordered = longestFirst(files);
if (process.argv.includes('--list')) {
  console.log(ordered.join('\n'));
  process.exit(0);
}
if (!full) {
  console.log(`Left out (npm run test:full runs everything): ${server ? 'the scale tests' : 'the platform suites and scale tests, on in-memory PGlite'}.`);
}
if (!server) console.log(`Left out without TEST_DATABASE_URL, even by test:full: ${NEEDS_SERVER.join(', ')} (two processes cannot share PGlite).`);
// tap would sort the files alphabetically and load its processinfo recorder into every test process:
// test/helpers/suite-runner.ts runs them in this order, with tap's reporter and exit status.
saveDurations(await runFiles(ordered, server ? { jobs: 4 } : {}));
