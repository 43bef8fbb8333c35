import type { Config } from '../../config.js';
import type { Logger } from '../logger.js';
import { type Database, connectPostgres, openPglite } from './client.js';

/** The configured database: PostgreSQL at DATABASE_URL, else the embedded one kept in DATA_DIR. */
export async function openDatabase(config: Config, logger?: Logger): Promise<Database> {
  if (config.database.url) {
    return connectPostgres({
      url: config.database.url,
      poolMax: config.database.poolMax,
      statementTimeoutMs: config.database.statementTimeoutMs,
      ...(logger ? { logger } : {}),
    });
  }
  return openPglite(config.dataDir);
}

/**
 * The read replica at DATABASE_READ_URL, when set: a second pool of the same size and timeouts.
 * Only read-only modules (analytics) take it; replication lag makes it unfit for read-your-writes.
 */
export function openReadDatabase(config: Config, logger?: Logger): Database | undefined {
  if (!config.database.readUrl) return undefined;
  return connectPostgres({
    url: config.database.readUrl,
    poolMax: config.database.poolMax,
    statementTimeoutMs: config.database.statementTimeoutMs,
    applicationName: 'headless-crm-read',
    ...(logger ? { logger } : {}),
  });
}
