import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import { BatchResponse } from '../../platform/http/batch.js';
import {
  countQuerySchema, listQuerySchema, parseFields, parseInclude, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import {
  Company, CompanyBatch, CompanyCreate, CompanyId, CompanyList, CompanyPatch, companyFieldNames, companyIncludes,
} from './company.schema.js';
import { companyFilterable, companySortable } from './company.repository.js';
import type { CompanyService } from './company.service.js';

const listOptions = { sortable: companySortable, filterable: companyFilterable, search: true, include: companyIncludes };
const tags = ['companies'];

export const companyRoutes: FastifyPluginAsyncZod<{ companies: CompanyService }> = async (app, { companies }) => {
  app.get('/companies', {
    schema: { tags, operationId: 'listCompanies', summary: 'List companies', querystring: listQuerySchema(listOptions), response: withProblems({ 200: CompanyList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, companyFieldNames);
    const include = parseInclude(req.query.include as string | undefined, companyIncludes);
    const page = await companies.list(contextOf(req), { ...toListParams(req.query), include });
    return { data: page.items.map((c) => pickFields(c, fields && include ? [...fields, ...include] : fields)), nextCursor: page.nextCursor };
  });

  app.get('/companies/count', {
    schema: { tags, operationId: 'countCompanies', summary: 'Count companies matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await companies.count(contextOf(req), toListParams(req.query)) }));

  app.post('/companies', {
    schema: { tags, operationId: 'createCompany', summary: 'Create a company', body: CompanyCreate, response: withProblems({ 201: Company }) },
  }, async (req, reply) => {
    const company = await companies.create(contextOf(req), req.body);
    setEtag(reply, company);
    return reply.code(201).header('location', `/v1/companies/${company.id}`).send(company);
  });

  app.post('/companies/batch', {
    schema: {
      tags, operationId: 'batchCompanies', summary: 'Create, update, upsert or delete up to 1000 companies, matched by id, domain or externalId.<system>',
      body: CompanyBatch, response: withProblems({ 200: BatchResponse }),
    },
  }, async (req) => ({ results: await companies.batch(contextOf(req), req.body) }));

  app.get('/companies/:id', {
    schema: { tags, operationId: 'getCompany', summary: 'Read a company', params: CompanyId, querystring: recordQuerySchema({ include: companyIncludes }).extend({ includeDeleted: z.enum(['true', 'false']).optional() }), response: withProblems({ 200: Company }) },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, companyFieldNames);
    const include = parseInclude(req.query.include as string | undefined, companyIncludes);
    const company = await companies.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true', include });
    setEtag(reply, company);
    return pickFields(company, fields && include ? [...fields, ...include] : fields);
  });

  app.patch('/companies/:id', {
    schema: { tags, operationId: 'updateCompany', summary: 'Change a company (JSON merge patch; If-Match optional)', params: CompanyId, body: CompanyPatch, response: withProblems({ 200: Company }) },
  }, async (req, reply) => {
    const company = await companies.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, company);
    return company;
  });

  app.delete('/companies/:id', {
    schema: { tags, operationId: 'deleteCompany', summary: 'Delete a company (soft; restore undoes)', params: CompanyId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await companies.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/companies/:id/restore', {
    schema: { tags, operationId: 'restoreCompany', summary: 'Restore a deleted company', params: CompanyId, response: withProblems({ 200: Company }) },
  }, async (req, reply) => {
    const company = await companies.restore(contextOf(req), req.params.id);
    setEtag(reply, company);
    return company;
  });
};
