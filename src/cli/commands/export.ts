import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import qs from 'qs';
import { parseInput } from '../../platform/errors/field-errors.js';
import { toListParams } from '../../platform/http/list-query.js';
import { withCli } from '../context.js';

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('export a collection as CSV or NDJSON, exactly as GET /v1/<collection>/export answers')
    .requiredOption('--entity <collection>', 'contacts, companies, activities, leads, deals, orders, feedback, tickets, segments, campaigns or workflows')
    .option('--format <format>', 'csv or ndjson', 'csv')
    .option('--query <query>', 'the list\'s query string: "filter[lifecycleStage][eq]=customer&sort=-createdAt&fields=email,firstName"')
    .option('--out <file>', 'write to this file instead of standard output')
    .action((o: { entity: string; format: string; query?: string; out?: string }) => withCli('export', async ({ modules, ctx }) => {
      const { exports, exportCollections } = (await modules()).integration.services;
      const { exportQuery } = await import('../../modules/integration/index.js'); // loaded with the modules, not at start
      const collection = exportCollections.find((c) => c.name === o.entity);
      if (!collection) throw new Error(`--entity must be one of ${exportCollections.map((c) => c.name).join(', ')}`);
      // the query string is read like the server reads it (qs) and checked by the route's own schema
      const raw = { ...qs.parse(o.query ?? '', { depth: 2, arrayLimit: 0 }), format: o.format };
      const query = parseInput(exportQuery(collection.query), raw) as Record<string, unknown> & { format: 'csv' | 'ndjson'; fields?: string };
      const download = await exports.open(ctx, collection, { ...toListParams(query), format: query.format, fields: query.fields });
      const out = o.out ? createWriteStream(o.out) : process.stdout;
      for await (const chunk of download.body) {
        if (!out.write(chunk)) await once(out, 'drain');
      }
      if (o.out) {
        out.end();
        await once(out, 'finish');
        console.error(`wrote ${o.out}`);
      }
    }));
}
