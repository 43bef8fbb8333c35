import { Command } from 'commander';
import { auditVerifyCommand } from './commands/audit-verify.js';
import { createAdminCommand } from './commands/create-admin.js';
import { createApiKeyCommand } from './commands/create-api-key.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { migrateCommand } from './commands/migrate.js';
import { reportFailure } from './context.js';

// `npx crm <command>`: the operator's commands, each against the configured database (DATABASE_URL,
// or the embedded one in DATA_DIR) through the same services as the API.

const program = new Command('crm')
  .description('Headless CRM administration: migrations, first users, API keys, imports, exports, audit checks')
  .showHelpAfterError();
for (const add of [migrateCommand, createAdminCommand, createApiKeyCommand, importCommand, exportCommand, auditVerifyCommand]) add(program);

try {
  await program.parseAsync();
} catch (e) {
  process.exitCode = reportFailure(e);
}
