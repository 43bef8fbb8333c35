import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { LeadConversion, LeadConvert, LeadId } from './lead.schema.js';
import type { ConversionService } from './conversion.service.js';

export const conversionRoutes: FastifyPluginAsyncZod<{ conversion: ConversionService }> = async (app, { conversion }) => {
  app.post('/leads/:id/convert', {
    schema: {
      tags: ['leads'], operationId: 'convertLead',
      summary: 'Convert a lead into a contact, its company and optionally a deal, in one transaction (twice → 409)',
      params: LeadId, body: LeadConvert.nullish().describe('optional: a bodiless call converts without a deal'), response: withProblems({ 200: LeadConversion }),
    },
  }, async (req) => conversion.convert(contextOf(req), req.params.id, req.body ?? {}));
};
