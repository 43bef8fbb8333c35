import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.js';

/** What every repository takes as its first argument: the database or an open transaction. */
export type Executor = PgDatabase<PgQueryResultHKT>;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Executor;
  /** Runs a trivial query; throws when the database cannot be reached. */
  ping(): Promise<void>;
  stats(): PoolStats;
  close(): Promise<void>;
  /** PGlite only: the whole data directory as a tarball (tests start each file's database from one) */
  dump?(): Promise<Blob | File>;
}

export interface PostgresOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  applicationName?: string;
  logger?: Logger;
  /** how long a query waits for a pooled connection (or a new one) before failing as 503; default 1.5 s */
  connectionTimeoutMs?: number;
}

/**
 * Issue #12: with the pool exhausted a request must get 503 within 2 s, not queue until the client
 * gives up. A free connection normally comes in milliseconds, so 1.5 s of waiting means overload.
 */
const POOL_WAIT_MS = 1_500;

function releaseOnConnectionLoss(client: pg.PoolClient): pg.PoolClient {
  const release = client.release;
  let released = false;
  const releaseOnce = (err?: Error | boolean) => {
    if (released) return;
    released = true;
    client.off('error', lost);
    release(err);
  };
  const lost = (err: Error) => releaseOnce(err);
  client.on('error', lost);
  client.release = releaseOnce;
  return client;
}

export function connectPostgres(o: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolMax,
    // Fail fast when the server is away or the pool is exhausted, so callers get a 503 instead of hanging.
    connectionTimeoutMillis: o.connectionTimeoutMs ?? POOL_WAIT_MS,
    idleTimeoutMillis: 30_000,
    statement_timeout: o.statementTimeoutMs,
    idle_in_transaction_session_timeout: Math.max(o.statementTimeoutMs * 2, 10_000),
    application_name: o.applicationName ?? 'headless-crm',
    keepAlive: true,
  });
  // An idle client losing its connection emits here; without a listener the process would crash.
  // The pool drops that client and makes a new one on the next checkout, which is how we recover.
  pool.on('error', (err) => o.logger?.warn({ err: { message: err.message } }, 'database connection lost'));
  // A *checked-out* client (drizzle holds one for a whole transaction) has no pool listener: losing
  // its connection would emit an unhandled 'error' and kill the process. Its pending query rejects
  // anyway (→ 503), so the event only needs a listener.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // drizzle's transaction() checks a client out and sends BEGIN *before* its try/finally: when the
  // connection dies right then, the client is never released, the pool shrinks for good and
  // pool.end() hangs at shutdown. So a client that loses its connection while checked out goes back
  // (and out of the pool) at once, and the caller's later release is ignored.
  const checkout = pool.connect.bind(pool);
  pool.connect = ((callback?: never) =>
    callback ? checkout(callback) : checkout().then(releaseOnConnectionLoss)) as typeof pool.connect;
  const db = drizzlePg({ client: pool }) as unknown as Executor;
  return {
    kind: 'postgres',
    db,
    async ping() {
      await pool.query('SELECT 1');
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}

/**
 * Embedded PostgreSQL (PGlite, WASM) for trying the service with no setup. `dataDir` undefined keeps
 * everything in memory (tests); otherwise the cluster lives in `<dataDir>/pgdata`.
 */
/** `image`: a data directory dumped by PGlite's dumpDataDir, to start from instead of an empty cluster (tests). */
export async function openPglite(dataDir: string | undefined, o: { image?: Blob } = {}): Promise<Database> {
  // loaded here, not at the top: a server on PostgreSQL (and every test process) never needs the WASM driver
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { unaccent } = await import('@electric-sql/pglite/contrib/unaccent');
  let path: string | undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    path = join(dataDir, 'pgdata');
  }
  // new PGlite(undefined, opts) ignores opts (the extensions would never load): name memory explicitly.
  const client: PGlite = new PGlite(path ?? 'memory://', { extensions: { pg_trgm, unaccent }, ...(o.image ? { loadDataDir: o.image } : {}) });
  await client.waitReady;
  const db = drizzlePglite({ client }) as unknown as Executor;
  return {
    kind: 'pglite',
    db,
    async ping() {
      await client.query('SELECT 1');
    },
    stats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: () => client.close(),
    dump: () => client.dumpDataDir('none'),
  };
}
