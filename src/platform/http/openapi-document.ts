import { loadConfig } from '../../config.js';
import { buildApp } from '../../app.js';
import type { Database } from '../db/client.js';
import { openapiYaml } from './openapi.js';

/** Builds the app on a database that is never queried and returns its OpenAPI document as YAML. */
export async function generateOpenapiYaml(): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'x'.repeat(32) });
  const unused: Database = {
    kind: 'postgres',
    db: undefined as never,
    ping: async () => undefined,
    stats: () => ({ total: 0, idle: 0, waiting: 0 }),
    close: async () => undefined,
  };
  const app = await buildApp({ config, database: unused, startWorkers: false });
  await app.ready();
  const yaml = openapiYaml(app.swagger() as object);
  await app.close();
  return yaml;
}
