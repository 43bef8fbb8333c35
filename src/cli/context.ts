import { type Config, ConfigError, loadConfig } from '../config.js';
import type { createModules } from '../app.js';
import { type Database } from '../platform/db/client.js';
import { openDatabase } from '../platform/db/open.js';
import { type RequestContext, systemContext } from '../platform/auth/actor.js';
import { AppError } from '../platform/errors/app-error.js';
import { translateDbError } from '../platform/db/errors.js';

// What every `crm` command works with: the configured database (DATABASE_URL, or the embedded one in
// DATA_DIR, which must not be open in a running server at the same time) and the same services the
// API uses, so a command validates, audits and emits events exactly like a request.

export type Modules = ReturnType<typeof createModules>;

export interface CliContext {
  config: Config;
  database: Database;
  /** loaded and built on first use: migrate and audit:verify need only the database, and start faster without the whole app */
  modules(): Promise<Modules>;
  /** the caller of the services: the system, as an admin, with the command in the audit trail's request id */
  ctx: RequestContext;
}

/** Opens the database, runs `work`, closes it whatever happens. */
export async function withCli<T>(command: string, work: (cli: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase(config);
  let modules: Modules | undefined;
  try {
    return await work({
      config,
      database,
      modules: async () => {
        const { createModules: build } = await import('../app.js');
        return (modules ??= build({
          config,
          db: database.db,
          signAccessToken: () => {
            throw new Error('the CLI signs no access tokens');
          },
        }));
      },
      ctx: systemContext(`cli:${command}`),
    });
  } finally {
    await database.close();
  }
}

/** One line (and one per bad field) for a failure a user can fix; exit codes: 78 bad configuration, 1 otherwise. */
export function reportFailure(e: unknown): number {
  if (e instanceof ConfigError) {
    console.error(e.message);
    return 78;
  }
  // a database refusal (a unique email, a missing row) reads as the API would answer it: 409 conflict, …
  const translated = e instanceof AppError ? e : translateDbError(e);
  if (translated) e = translated;
  if (e instanceof AppError) {
    console.error(`error: ${e.code}: ${e.message}`);
    for (const f of e.errors ?? []) console.error(`  ${f.path}: ${f.message}`);
    return 1;
  }
  console.error(e instanceof Error ? `error: ${e.message}` : e);
  // a failed query's reason (the database's own message) is its cause
  if (e instanceof Error && e.cause instanceof Error) console.error(`  because: ${e.cause.message}`);
  return 1;
}
