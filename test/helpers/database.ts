import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Database, connectPostgres, openPglite } from '../../src/platform/db/client.js';
import { migrationsFolder, runMigrations } from '../../src/platform/db/migrations.js';

// Every test file gets a database of its own, made from the migrations:
//   TEST_DATABASE_URL set   → a fresh database cloned from a migrated template on that server (CI);
//   else a Docker engine    → a PostgreSQL container (testcontainers);
//   else                    → in-memory PGlite, so `npm test` passes on a machine with nothing installed.

export interface TestDatabase {
  database: Database;
  /** a connection string for this database, when it lives on a server */
  url?: string;
  close(): Promise<void>;
}

function migrationsHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(migrationsFolder).filter((x) => x.endsWith('.sql')).sort()) {
    h.update(f).update(readFileSync(join(migrationsFolder, f)));
  }
  return h.digest('hex').slice(0, 12);
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function templateOn(adminUrl: string): Promise<string> {
  const template = `crm_tpl_${migrationsHash()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Test files start in parallel: one of them builds the template, the others wait for it.
    await admin.query('SELECT pg_advisory_lock(7201100099)');
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${template}`);
      const db = connectPostgres({ url: withDatabase(adminUrl, template), poolMax: 2, statementTimeoutMs: 60_000 });
      try {
        await runMigrations(db);
      } catch (e) {
        await db.close();
        await admin.query(`DROP DATABASE IF EXISTS ${template}`);
        throw e;
      }
      await db.close();
    }
    await admin.query('SELECT pg_advisory_unlock(7201100099)');
  } finally {
    await admin.end();
  }
  return template;
}

async function onServer(adminUrl: string): Promise<TestDatabase> {
  const template = await templateOn(adminUrl);
  const name = `crm_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  // Tests are about behaviour, not shedding load: on a busy CI machine a checkout may wait longer than
  // the production 1.5 s without anything being wrong (test/faults/pool-exhaustion.test.ts uses the default).
  const database = connectPostgres({ url, poolMax: 10, statementTimeoutMs: 30_000, connectionTimeoutMs: 15_000 });
  return {
    database,
    url,
    async close() {
      await database.close();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function inContainer(): Promise<TestDatabase> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:15-alpine').start();
  const url = container.getConnectionUri();
  const t = await onServer(url);
  return { ...t, close: async () => { await t.close(); await container.stop(); } };
}

export type TestDatabaseKind = 'server' | 'container' | 'pglite';

export async function testDatabaseKind(): Promise<TestDatabaseKind> {
  if (process.env.TEST_DATABASE_URL) return 'server';
  return (await dockerAnswers()) ? 'container' : 'pglite';
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const kind = await testDatabaseKind();
  if (kind === 'server') return onServer(process.env.TEST_DATABASE_URL as string);
  if (kind === 'container') return inContainer();
  const database = await openPglite(undefined, { image: await pgliteTemplate() });
  return { database, close: () => database.close() };
}

/**
 * A migrated PGlite cluster as a tarball in the temp folder, keyed by the migrations' hash: each
 * test file starts from it instead of running initdb and every migration again (several seconds a
 * file on a 2-core machine). Files racing to build it each write a whole file and rename it into
 * place, so a reader never sees half of one.
 */
async function pgliteTemplate(): Promise<Blob> {
  const path = join(tmpdir(), `crm-pglite-${migrationsHash()}.tar`);
  try {
    return new Blob([readFileSync(path)]);
  } catch {
    const database = await openPglite(undefined);
    await runMigrations(database);
    const image = await (database.dump as () => Promise<Blob>)();
    await database.close();
    const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, Buffer.from(await image.arrayBuffer()));
    renameSync(partial, path);
    return image;
  }
}
