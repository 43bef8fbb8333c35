import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { listQuerySchema, toListParams } from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { CustomField, CustomFieldCreate, CustomFieldId, CustomFieldList, CustomFieldPatch } from './custom-field.schema.js';
import { customFieldFilterable, customFieldSortable } from './custom-field.repository.js';
import type { CustomFieldService } from './custom-field.service.js';

const listOptions = { sortable: customFieldSortable, filterable: customFieldFilterable };
const tags = ['custom-fields'];

/** Custom-field definitions (API.md §5): every role reads, admin and manager write (resource `config`). */
export const customFieldRoutes: FastifyPluginAsyncZod<{ customFields: CustomFieldService }> = async (app, { customFields }) => {
  app.get('/custom-fields', {
    schema: { tags, operationId: 'listCustomFields', summary: 'List custom-field definitions (filter[entity][eq]=contact)', querystring: listQuerySchema(listOptions).omit({ fields: true }), response: withProblems({ 200: CustomFieldList }) },
  }, async (req) => {
    const page = await customFields.list(contextOf(req), toListParams(req.query));
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.post('/custom-fields', {
    schema: { tags, operationId: 'createCustomField', summary: 'Define a custom field', body: CustomFieldCreate, response: withProblems({ 201: CustomField }) },
  }, async (req, reply) => {
    const field = await customFields.create(contextOf(req), req.body);
    setEtag(reply, field);
    return reply.code(201).header('location', `/v1/custom-fields/${field.id}`).send(field);
  });

  app.get('/custom-fields/:id', {
    schema: { tags, operationId: 'getCustomField', summary: 'Read a custom-field definition', params: CustomFieldId, response: withProblems({ 200: CustomField }) },
  }, async (req, reply) => {
    const field = await customFields.get(contextOf(req), req.params.id);
    setEtag(reply, field);
    return field;
  });

  app.patch('/custom-fields/:id', {
    schema: { tags, operationId: 'updateCustomField', summary: 'Change label, options or required (JSON merge patch; If-Match optional)', params: CustomFieldId, body: CustomFieldPatch, response: withProblems({ 200: CustomField }) },
  }, async (req, reply) => {
    const field = await customFields.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, field);
    return field;
  });

  app.delete('/custom-fields/:id', {
    schema: { tags, operationId: 'deleteCustomField', summary: 'Delete a custom-field definition (soft)', params: CustomFieldId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await customFields.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });
};
