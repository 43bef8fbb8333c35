import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './platform/db/open.js';
import { runMigrations } from './platform/db/migrations.js';
import { devJwtSecret } from './platform/auth/dev-secret.js';

// npm run cluster: CLUSTER_WORKERS server processes (default one per core) on one PORT, through
// node:cluster (the primary accepts connections and hands them round-robin to the workers). One
// port rather than N keeps a single address for a load balancer or a client, and the kernel-level
// choice stays with the orchestrator when it runs one process per container instead.
// The primary does what must happen once: refuse the embedded database, apply the migrations, make
// the development signing key. Workers are `src/server.ts` unchanged; their background work is safe
// to run N times (docs/scale-out.md).

const EX_CONFIG = 78;
/** a worker dying this often within the window means something is wrong with all of them: stop */
const MAX_DEATHS = 5;
const DEATH_WINDOW_MS = 60_000;
/** this many workers in a row dying before they listen (database gone, port taken): stop */
const MAX_FAILED_STARTS = 5;
const RESPAWN_DELAY_MS = 1000;

const say = (line: string) => process.stdout.write(`[cluster ${process.pid}] ${line}\n`);

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(EX_CONFIG);
  }
  throw e;
}

if (!config.database.url) {
  console.error(
    'npm run cluster needs PostgreSQL (DATABASE_URL): the embedded database in DATA_DIR belongs to one process, so a\n'
    + 'second one cannot open it. Run one process with `npm start`, or set DATABASE_URL=postgres://… (docs/scale-out.md).',
  );
  process.exit(EX_CONFIG);
}

const database = await openDatabase(config);
try {
  await runMigrations(database);
} finally {
  await database.close();
}
// every worker must sign and verify with the same key: made here, before any of them reads it
if (!config.jwt.secret) devJwtSecret(config.dataDir);

const size = config.clusterWorkers ?? availableParallelism();
const serverFile = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './server.ts' : './server.js', import.meta.url));
cluster.setupPrimary({ exec: serverFile });

let stopping = false;
const deaths: number[] = [];
const listening = new Set<number>();
let failedStarts = 0;

const start = (): Worker => cluster.fork();

cluster.on('listening', (worker) => {
  listening.add(worker.id);
  failedStarts = 0;
});

cluster.on('exit', (worker, code, signal) => {
  if (stopping) {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(process.exitCode ?? 0);
    return;
  }
  const started = listening.delete(worker.id);
  say(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`})${started ? '' : ' before it was listening'}`);
  // a start that fails is slow to repeat (a start takes seconds), so it is counted apart from crashes
  if (!started && ++failedStarts >= MAX_FAILED_STARTS) {
    say(`${MAX_FAILED_STARTS} workers in a row failed to start: stopping`);
    stop(1);
    return;
  }
  const now = Date.now();
  deaths.push(now);
  while (deaths.length && (deaths[0] as number) < now - DEATH_WINDOW_MS) deaths.shift();
  if (deaths.length >= MAX_DEATHS) {
    say(`${MAX_DEATHS} workers died within ${DEATH_WINDOW_MS / 1000} s: stopping`);
    stop(1);
    return;
  }
  setTimeout(start, RESPAWN_DELAY_MS);
});

/** Each worker shuts down gracefully (close-with-grace in server.ts); the primary leaves after the last. */
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  if (workers.length === 0) process.exit(code);
  // a message, not a signal: see server.ts (a worker already stopping ignores it)
  for (const w of workers) if (w.isConnected()) w.send('shutdown');
  // a worker's own grace period bounds its shutdown; this bounds the primary's wait for it
  setTimeout(() => process.exit(code || 1), config.shutdownGraceMs + 5000).unref();
}

process.on('SIGTERM', () => stop());
process.on('SIGINT', () => stop());

say(`starting ${size} server processes on port ${config.port}`);
for (let i = 0; i < size; i++) start();
