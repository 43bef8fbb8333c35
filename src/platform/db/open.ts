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
