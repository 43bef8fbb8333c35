import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './app.js';
import { openDatabase } from './platform/db/open.js';
import { runMigrations } from './platform/db/migrations.js';
import { devJwtSecret } from './platform/auth/dev-secret.js';

// config → database → app → listen; on a signal, stop taking requests, finish those in flight, close the pool.

let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(78); // EX_CONFIG
  }
  throw e;
}

const database = await openDatabase(config);
if (database.kind === 'pglite') await runMigrations(database); // embedded: no separate migrate step
const app = await buildApp({
  config,
  database,
  bootstrapAdmin: true,
  ...(config.jwt.secret ? {} : { jwtSecret: devJwtSecret(config.dataDir) }),
});
app.addHook('onClose', async () => database.close());

let closing = false;
const grace = closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
  closing = true;
  if (err) app.log.error({ err }, 'shutting down after an error');
  // warn, not info: benches and production run at LOG_LEVEL=warn, and a shutdown nobody asked for (a
  // signal to the whole process group, say) must say what started it; "killed by timeout" alone did not
  else app.log.warn({ signal: signal ?? 'asked by the cluster primary' }, 'shutting down');
  await app.close();
});
// Under `npm run cluster` the primary asks by message, not by signal: after a Ctrl-C the terminal has
// already sent SIGINT to every worker, and a second signal would make close-with-grace exit at once.
process.on('message', (m) => {
  if (m === 'shutdown' && !closing) void grace.close();
});

await app.listen({ port: config.port, host: config.host });
const base = `http://localhost:${(app.server.address() as { port: number }).port}`;
app.log.info(
  `CRM ready on ${base} (${database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'}) — docs ${base}/docs, GraphQL ${base}/graphql`,
);
