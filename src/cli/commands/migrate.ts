import type { Command } from 'commander';
import { appliedMigrationCount, runMigrations } from '../../platform/db/migrations.js';
import { withCli } from '../context.js';

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending migrations to DATABASE_URL (or the embedded database)')
    .action(() => withCli('migrate', async ({ database }) => {
      const before = await appliedMigrationCount(database.db);
      await runMigrations(database);
      const after = await appliedMigrationCount(database.db);
      console.log(`migrations: ${after - before} applied, ${after} in total (${database.kind})`);
    }));
}
