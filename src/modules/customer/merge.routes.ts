import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag } from '../../platform/http/etag.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { Contact } from './contact.schema.js';
import { Company } from './company.schema.js';
import { CompanyMerge, ContactMerge, MAX_DUPLICATES } from './merge.schema.js';
import type { MergeService } from './merge.service.js';

const what = (entity: string) =>
  `Merge up to ${MAX_DUPLICATES} duplicate ${entity} into the primary in one transaction: every link moves to the primary, ` +
  'its empty fields are filled, the duplicates are deleted with mergedIntoId. Answers the surviving record.';

export const mergeRoutes: FastifyPluginAsyncZod<{ merge: MergeService }> = async (app, { merge }) => {
  app.post('/contacts/merge', {
    schema: { tags: ['contacts'], operationId: 'mergeContacts', summary: 'Merge duplicate contacts', description: what('contacts'), body: ContactMerge, response: withProblems({ 200: Contact }) },
  }, async (req, reply) => {
    const contact = await merge.mergeContacts(contextOf(req), req.body);
    setEtag(reply, contact);
    return contact;
  });

  app.post('/companies/merge', {
    schema: { tags: ['companies'], operationId: 'mergeCompanies', summary: 'Merge duplicate companies', description: what('companies'), body: CompanyMerge, response: withProblems({ 200: Company }) },
  }, async (req, reply) => {
    const company = await merge.mergeCompanies(contextOf(req), req.body);
    setEtag(reply, company);
    return company;
  });
};
