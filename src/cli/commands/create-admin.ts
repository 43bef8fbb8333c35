import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { inTransaction } from '../../platform/db/transaction.js';
import { withCli } from '../context.js';
import { readStdin } from '../stdin.js';

export function createAdminCommand(program: Command): void {
  program
    .command('create-admin')
    .description('create an admin user; the password is read from stdin with --password-stdin, else generated and printed once')
    .requiredOption('--email <email>', 'the admin\'s sign-in email')
    .option('--name <name>', 'display name', 'Administrator')
    // never a --password flag: a password in the arguments is visible to every user of the machine (ps)
    .option('--password-stdin', 'read the password from standard input')
    .action((o: { email: string; name: string; passwordStdin?: boolean }) => withCli('create-admin', async ({ database, modules, ctx }) => {
      const password = o.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : randomBytes(18).toString('base64url');
      const { users } = (await modules()).identity.services;
      const user = await inTransaction(database.db, (tx) => users.createUnchecked(tx, ctx, { email: o.email, password, name: o.name, role: 'admin' }));
      console.log(`created admin ${user.email} (${user.id})`);
      if (!o.passwordStdin) console.log(`password (shown once, change it): ${password}`);
    }));
}
