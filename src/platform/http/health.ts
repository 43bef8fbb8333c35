import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { appliedMigrationCount, shippedMigrationCount } from '../db/migrations.js';
import { AppError } from '../errors/app-error.js';
import { withProblems } from './problem.schema.js';

const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
const Ready = z.object({ status: z.literal('ready'), database: z.string(), migrations: z.number().int() }).meta({ id: 'Ready' });

/** /health: the process answers. /ready: the database answers and every shipped migration is applied. */
export const healthRoutes: FastifyPluginAsyncZod<{ database: Database }> = async (app, { database }) => {
  const shipped = shippedMigrationCount();

  app.get('/health', { schema: { tags: ['platform'], operationId: 'health', summary: 'Liveness', security: [], response: withProblems({ 200: Health }) } }, async () => ({ status: 'ok' as const }));

  app.get('/ready', {
    schema: { tags: ['platform'], operationId: 'ready', summary: 'Readiness: database reachable, migrations current', security: [], response: withProblems({ 200: Ready }) },
  }, async () => {
    const applied = await appliedMigrationCount(database.db);
    if (applied < shipped) {
      throw new AppError('service_unavailable', `${shipped - applied} migration(s) not applied; run npm run migrate`, {
        headers: { 'retry-after': '10' },
      });
    }
    return { status: 'ready' as const, database: database.kind, migrations: applied };
  });
};
