import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Problem } from '../../platform/http/problem.schema.js';
import { toCsv } from './csv.js';
import { toSvg } from './svg-chart.js';

// ?format= on every analytics REST endpoint (docs/metrics.md "Formats"): the same figure as JSON (the
// default), as CSV or as an SVG chart. Rendered once here from the response the endpoint returns,
// so no endpoint knows about formats. GraphQL always answers JSON.

export const FORMATS = ['json', 'csv', 'svg'] as const;
export type Format = (typeof FORMATS)[number];

export const formatParam = z.enum(FORMATS).optional()
  .describe('json (default); csv: the figure as a table, header of dotted field names, UTF-8 with BOM (text/csv); svg: a line or bar chart of it with labelled axes (image/svg+xml)');

const CONTENT_TYPE: Record<Exclude<Format, 'json'>, string> = { csv: 'text/csv; charset=utf-8', svg: 'image/svg+xml; charset=utf-8' };

/** The responses of an analytics endpoint: its figure in each format, problems as everywhere. */
export function analyticsResponses<T extends z.ZodType>(figure: T) {
  return {
    200: {
      description: 'The figure: JSON by default; with format=csv a table, with format=svg a chart',
      content: {
        'application/json': { schema: figure },
        'text/csv': { schema: z.string().describe('header of dotted field names; rows: the series, else the first list, else the figure itself (docs/metrics.md "Formats")') },
        'image/svg+xml': { schema: z.string().describe('a line chart of a series, bars otherwise; labelled axes') },
      },
    },
    '4XX': Problem,
    '5XX': Problem,
  };
}

/** Routes answering 200 with ?format=csv|svg send the rendered text instead of JSON. */
async function render(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  const format = (request.query as { format?: Format } | undefined)?.format;
  if (!format || format === 'json' || reply.statusCode !== 200) return payload;
  const figure = (request.routeOptions.url ?? '').replace(/^.*\/analytics\//, '');
  reply.type(CONTENT_TYPE[format]);
  if (format === 'csv') reply.header('content-disposition', `attachment; filename="${figure.replace(/\//g, '-')}.csv"`);
  // the text is final: bypass the JSON serializer of the route's response schema
  reply.serializer((text: unknown) => text as string);
  return format === 'csv' ? toCsv(payload) : toSvg(payload, figure);
}

/** Registers the analytics route plugins under the format renderer. */
export function withFormats(plugins: FastifyPluginAsync[]): FastifyPluginAsync {
  return async (app) => {
    app.addHook('preSerialization', render);
    for (const plugin of plugins) await app.register(plugin);
  };
}
