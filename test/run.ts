// Runs the tap suite. With a PostgreSQL server (TEST_DATABASE_URL, as CI sets it) or `--full`, every
// file runs. On in-memory PGlite — a machine with nothing installed — the quick form runs instead:
// the domain modules' tests and the unit tests, leaving out the platform suites below (faults,
// security, contract, integration, identity, the roles matrix, GraphQL limits), which change rarely,
// take a third of the time on PGlite, and always run in CI. `npm run test:full` runs them anywhere.
import { spawnSync } from 'node:child_process';

const FULL_ONLY = [
  'test/faults/**',
  'test/security/**',
  'test/contract/**',
  'test/integration/**',
  'test/api/identity-*.test.ts',
  'test/api/roles-matrix.test.ts',
  'test/api/graphql-limits.test.ts',
  'test/api/http-plumbing.test.ts',
];

const server = Boolean(process.env.TEST_DATABASE_URL);
const full = process.argv.includes('--full') || server;
// On a server the test processes wait on PostgreSQL part of the time: four at once finish the suite
// about 15 % sooner on 2 cores. PGlite runs the database inside each test process, so two is the most.
const args = [...(server ? ['--jobs=4'] : []), ...(full ? [] : FULL_ONLY.map((p) => `--exclude=${p}`))];
if (!full) {
  console.log('Quick form on in-memory PGlite: platform suites are left out (npm run test:full, or set TEST_DATABASE_URL, runs everything).');
}
const r = spawnSync('npx', ['tap', ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
