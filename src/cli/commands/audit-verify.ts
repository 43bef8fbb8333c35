import type { Command } from 'commander';
import { verifyAuditChain } from '../../platform/audit/chain.js';
import { withCli } from '../context.js';

export function auditVerifyCommand(program: Command): void {
  program
    .command('audit:verify')
    .description('seal pending audit rows and check the whole hash chain; exit 1 naming the first broken row')
    .action(() => withCli('audit:verify', async ({ database }) => {
      const report = await verifyAuditChain(database.db);
      if (report.ok) {
        console.log(`audit chain intact: ${report.checked} rows checked`);
        return;
      }
      const b = report.firstBroken!;
      console.error(`audit chain BROKEN at seq ${b.seq}${b.id ? ` (row ${b.id})` : ''}: ${b.reason}; ${report.checked} rows before it are intact`);
      process.exitCode = 1;
    }));
}
