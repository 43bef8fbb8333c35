import { loadConfig } from '../config.js';
import { openDatabase } from '../platform/db/open.js';
import { appliedMigrationCount, runMigrations } from '../platform/db/migrations.js';

// npm run migrate: applies pending migrations to DATABASE_URL (or the embedded database).
const config = loadConfig();
const database = await openDatabase(config);
try {
  const before = await appliedMigrationCount(database.db);
  await runMigrations(database);
  const after = await appliedMigrationCount(database.db);
  console.log(`migrations: ${after - before} applied, ${after} in total (${database.kind})`);
} finally {
  await database.close();
}
