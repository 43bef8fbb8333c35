import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { Database, Executor } from './client.js';
import { queryRows } from './execute.js';

export const migrationsFolder = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** How many migrations this build ships (drizzle-kit's journal). */
export function shippedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

export async function appliedMigrationCount(db: Executor): Promise<number> {
  // Two statements: PostgreSQL resolves every table a statement names before running it, so one
  // CASE over a table that does not exist yet fails on a fresh database instead of answering 0.
  const table = await queryRows<{ present: boolean }>(db, sql`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
  if (!table.rows[0]?.present) return 0;
  const rows = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
  return Number(rows.rows[0]?.n ?? 0);
}

// Any 64-bit constant will do; it only has to be the same for every process of this service.
const MIGRATION_LOCK = 7_201_100_001;

/**
 * Applies pending migrations. Several processes starting at once take turns on an advisory lock,
 * so each migration runs exactly once.
 */
export async function runMigrations(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    await migrate(database.db as never, { migrationsFolder });
    return;
  }
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  await database.db.execute(sql`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
  try {
    await migrate(database.db as never, { migrationsFolder });
  } finally {
    await database.db.execute(sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
  }
}
