import type { Command } from 'commander';
import { ROLES } from '../../platform/auth/actor.js';
import { withCli } from '../context.js';

export function createApiKeyCommand(program: Command): void {
  program
    .command('create-api-key')
    .description('create an API key for an integration or a script; prints the key alone on stdout (shown once)')
    .requiredOption('--name <name>', 'what the key is for, e.g. "ERP sync"')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--expires-at <time>', 'ISO 8601 time after which the key stops working')
    .action((o: { name: string; role: string; expiresAt?: string }) => withCli('create-api-key', async ({ modules, ctx }) => {
      const key = await (await modules()).identity.services.apiKeys.create(ctx, { name: o.name, role: o.role, ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}) });
      // the key alone on stdout, so that KEY=$(crm create-api-key …) works; what it is, on stderr
      console.error(`created API key ${key.id} "${key.name}" (${key.role}${key.expiresAt ? `, expires ${key.expiresAt}` : ''})`);
      console.log(key.key);
    }));
}
