import { loadConfig } from '../config.js';
import { openDatabase } from '../platform/db/open.js';
import { verifyAuditChain } from '../platform/audit/chain.js';

// npm run audit:verify — seals pending rows, checks the whole chain; exit 1 naming the first broken row.
const database = await openDatabase(loadConfig());
try {
  const report = await verifyAuditChain(database.db);
  if (report.ok) {
    console.log(`audit chain intact: ${report.checked} rows checked`);
  } else {
    const b = report.firstBroken!;
    console.error(`audit chain BROKEN at seq ${b.seq}${b.id ? ` (row ${b.id})` : ''}: ${b.reason}; ${report.checked} rows before it are intact`);
    process.exitCode = 1;
  }
} finally {
  await database.close();
}
