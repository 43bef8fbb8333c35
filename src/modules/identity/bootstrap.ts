import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { systemContext } from '../../platform/auth/actor.js';
import type { Logger } from '../../platform/logger.js';
import type { UserService } from './user.service.js';
import { countUsers } from './user.repository.js';

const BOOTSTRAP_LOCK = 7_201_100_003;

/**
 * On a database with no users, creates the first admin from ADMIN_EMAIL / ADMIN_PASSWORD, or with a
 * generated password printed once. Processes starting together take turns, so only one admin is made.
 */
export async function ensureFirstAdmin(
  db: Executor,
  users: UserService,
  admin: { email: string | undefined; password: string | undefined },
  log: Logger,
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<boolean> {
  const generated = !admin.password;
  const email = admin.email ?? 'admin@example.com';
  const password = admin.password ?? randomBytes(18).toString('base64url');
  const created = await inTransaction(db, async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
    if ((await countUsers(tx)) > 0) return false;
    await users.createUnchecked(tx, systemContext('bootstrap'), { email, password, name: 'Administrator', role: 'admin' });
    return true;
  });
  if (!created) return false;
  // no address in the log line: it is personal data (and the generated case prints it below)
  log.info('created the first admin');
  if (generated) {
    // Printed once, to stdout only: it is in no log file, no audit row and nowhere in the database.
    print(`\n  First admin created: ${email}\n  Password (shown once, change it): ${password}\n`);
  }
  return true;
}
