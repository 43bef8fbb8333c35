import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { withCli } from '../context.js';
import { progressReporter } from '../progress.js';

/** The natural key each entity is usually matched by (API.md §5 imports); --id-property overrides it. */
const DEFAULT_ID_PROPERTY: Record<string, string> = { contacts: 'email', companies: 'domain', leads: 'email', deals: 'id', orders: 'externalId' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function importCommand(program: Command): void {
  program
    .command('import <file>')
    .description('import a CSV or NDJSON file through the import service (the same checks, audit and events as POST /v1/imports), showing progress')
    .requiredOption('--entity <entity>', 'contacts, companies, leads, deals or orders')
    .option('--id-property <property>', 'what rows are matched by: email, domain, id, externalId or externalId.<system> (default: the entity\'s natural key)')
    .option('--format <format>', 'csv or ndjson (default: from the file name)')
    .action((file: string, o: { entity: string; idProperty?: string; format?: string }) => withCli('import', async ({ database, modules, ctx }) => {
      const format = o.format ?? (['.ndjson', '.jsonl'].includes(extname(file)) ? 'ndjson' : 'csv');
      if (format !== 'csv' && format !== 'ndjson') throw new Error(`--format must be csv or ndjson, not ${format}`);
      const { imports } = (await modules()).integration.services;
      const job = await imports.create(ctx, {
        entity: o.entity, idProperty: o.idProperty ?? DEFAULT_ID_PROPERTY[o.entity] ?? 'id', format, content: createReadStream(file),
      });
      const progress = progressReporter(`importing ${job.totalRows} ${o.entity}`);
      // Applies the stored rows here, a chunk at a time, so the bar moves; a running server's import
      // worker may take chunks of the same job too (jobs are leased), which only makes it finish sooner.
      let state = await imports.get(ctx, job.id);
      while (state.status === 'queued' || state.status === 'running') {
        progress.update(state.processed, state.totalRows);
        if ((await imports.runDue(database.db, { maxChunks: 1 })) === 0) await sleep(250);
        state = await imports.get(ctx, job.id);
      }
      progress.update(state.processed, state.totalRows);
      progress.stop();
      console.log(`import ${state.id} ${state.status}: ${state.created} created, ${state.updated} updated, ${state.failed} failed of ${state.totalRows} rows`);
      for (const e of state.errors) console.log(`  row ${e.row}: ${e.message}`);
      if (state.status === 'failed') {
        console.error(`the import failed: ${state.failure}`);
        process.exitCode = 1;
      } else if (state.failed > 0) {
        process.exitCode = 2; // done, but some rows were refused: scripts can tell the two apart
      }
    }));
}
