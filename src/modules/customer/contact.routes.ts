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
  Contact, ContactBatch, ContactCreate, ContactId, ContactList, ContactPatch, contactFieldNames, contactIncludes,
} from './contact.schema.js';
import { contactFilterable, contactSortable } from './contact.repository.js';
import type { ContactService } from './contact.service.js';

const listOptions = { sortable: [...contactSortable, 'relevance (only with q, and then the default)'], filterable: contactFilterable, search: true, include: contactIncludes };
const tags = ['contacts'];

export const contactRoutes: FastifyPluginAsyncZod<{ contacts: ContactService }> = async (app, { contacts }) => {
  app.get('/contacts', {
    schema: { tags, operationId: 'listContacts', summary: 'List contacts', querystring: listQuerySchema(listOptions), response: withProblems({ 200: ContactList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, contactFieldNames);
    const include = parseInclude(req.query.include as string | undefined, contactIncludes);
    const page = await contacts.list(contextOf(req), { ...toListParams(req.query), include });
    return { data: page.items.map((c) => pickFields(c, fields && include ? [...fields, ...include] : fields)), nextCursor: page.nextCursor };
  });

  app.get('/contacts/count', {
    schema: { tags, operationId: 'countContacts', summary: 'Count contacts matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await contacts.count(contextOf(req), toListParams(req.query)) }));

  app.post('/contacts', {
    schema: { tags, operationId: 'createContact', summary: 'Create a contact', body: ContactCreate, response: withProblems({ 201: Contact }) },
  }, async (req, reply) => {
    const contact = await contacts.create(contextOf(req), req.body);
    setEtag(reply, contact);
    return reply.code(201).header('location', `/v1/contacts/${contact.id}`).send(contact);
  });

  app.post('/contacts/batch', {
    schema: {
      tags, operationId: 'batchContacts', summary: 'Create, update, upsert or delete up to 1000 contacts, matched by id, email or externalId.<system>',
      body: ContactBatch, response: withProblems({ 200: BatchResponse }),
    },
    // refused before the body (up to 1000 records) is read and parsed, when the service would refuse it anyway
    onRequest: async () => contacts.assertBatchRoom(),
  }, async (req) => ({ results: await contacts.batch(contextOf(req), req.body) }));

  app.get('/contacts/:id', {
    schema: { tags, operationId: 'getContact', summary: 'Read a contact', params: ContactId, querystring: recordQuerySchema({ include: contactIncludes }).extend({ includeDeleted: z.enum(['true', 'false']).optional() }), response: withProblems({ 200: Contact }) },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, contactFieldNames);
    const include = parseInclude(req.query.include as string | undefined, contactIncludes);
    const contact = await contacts.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true', include });
    setEtag(reply, contact);
    return pickFields(contact, fields && include ? [...fields, ...include] : fields);
  });

  app.patch('/contacts/:id', {
    schema: { tags, operationId: 'updateContact', summary: 'Change a contact (JSON merge patch; If-Match optional)', params: ContactId, body: ContactPatch, response: withProblems({ 200: Contact }) },
  }, async (req, reply) => {
    const contact = await contacts.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, contact);
    return contact;
  });

  app.delete('/contacts/:id', {
    schema: { tags, operationId: 'deleteContact', summary: 'Delete a contact (soft; restore undoes)', params: ContactId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await contacts.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/contacts/:id/restore', {
    schema: { tags, operationId: 'restoreContact', summary: 'Restore a deleted contact', params: ContactId, response: withProblems({ 200: Contact }) },
  }, async (req, reply) => {
    const contact = await contacts.restore(contextOf(req), req.params.id);
    setEtag(reply, contact);
    return contact;
  });
};
