import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { CompanyDuplicateList, ContactDuplicateList, DuplicateQuery } from './duplicate.schema.js';
import type { DuplicateService } from './duplicate.service.js';

export const duplicateRoutes: FastifyPluginAsyncZod<{ duplicates: DuplicateService }> = async (app, { duplicates }) => {
  app.get('/contacts/duplicates', {
    schema: {
      tags: ['contacts'], operationId: 'listContactDuplicates', summary: 'Likely duplicate contacts, pairs by score (highest first)',
      querystring: DuplicateQuery, response: withProblems({ 200: ContactDuplicateList }),
    },
  }, async (req) => {
    const page = await duplicates.contacts(contextOf(req), req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.get('/companies/duplicates', {
    schema: {
      tags: ['companies'], operationId: 'listCompanyDuplicates', summary: 'Likely duplicate companies, pairs by score (highest first)',
      querystring: DuplicateQuery, response: withProblems({ 200: CompanyDuplicateList }),
    },
  }, async (req) => {
    const page = await duplicates.companies(contextOf(req), req.query);
    return { data: page.items, nextCursor: page.nextCursor };
  });
};
