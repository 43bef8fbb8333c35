import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import {
  countQuerySchema, listQuerySchema, parseFields, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { Contact, contactFieldNames, contactFilterable, contactSortable } from '../customer/index.js';
import { Segment, SegmentCreate, SegmentId, SegmentList, SegmentPatch, segmentFieldNames } from './segment.schema.js';
import { segmentFilterable, segmentSortable } from './segment.repository.js';
import type { SegmentService } from './segment.service.js';

const listOptions = { sortable: segmentSortable, filterable: segmentFilterable };
const memberOptions = { sortable: contactSortable, filterable: contactFilterable, search: true };
const SegmentMembers = z.object({ data: z.array(Contact), nextCursor: z.string().nullable() }).meta({ id: 'SegmentMembers' });
const tags = ['segments'];

/** Segments (API.md §5 Marketing): admin, manager and marketing write; sales and viewer read. */
export const segmentRoutes: FastifyPluginAsyncZod<{ segments: SegmentService }> = async (app, { segments }) => {
  app.get('/segments', {
    schema: { tags, operationId: 'listSegments', summary: 'List segments', querystring: listQuerySchema(listOptions), response: withProblems({ 200: SegmentList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, segmentFieldNames);
    const page = await segments.list(contextOf(req), toListParams(req.query));
    return { data: page.items.map((x) => pickFields(x, fields)), nextCursor: page.nextCursor };
  });

  app.get('/segments/count', {
    schema: { tags, operationId: 'countSegments', summary: 'Count segments matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await segments.count(contextOf(req), toListParams(req.query)) }));

  app.post('/segments', {
    schema: { tags, operationId: 'createSegment', summary: 'Create a segment (its rules are checked against the contact fields now)', body: SegmentCreate, response: withProblems({ 201: Segment }) },
  }, async (req, reply) => {
    const created = await segments.create(contextOf(req), req.body);
    setEtag(reply, created);
    return reply.code(201).header('location', `/v1/segments/${created.id}`).send(created);
  });

  app.get('/segments/:id', {
    schema: {
      tags, operationId: 'getSegment', summary: 'Read a segment', params: SegmentId,
      querystring: recordQuerySchema({}).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: Segment }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, segmentFieldNames);
    const segment = await segments.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true' });
    setEtag(reply, segment);
    return pickFields(segment, fields);
  });

  app.get('/segments/:id/contacts', {
    schema: {
      tags, operationId: 'listSegmentContacts', summary: 'The segment\'s members now (rules evaluated live), paged like GET /v1/contacts',
      params: SegmentId, querystring: listQuerySchema(memberOptions), response: withProblems({ 200: SegmentMembers }),
    },
  }, async (req) => {
    const fields = parseFields(req.query.fields, contactFieldNames);
    const page = await segments.members(contextOf(req), req.params.id, toListParams(req.query));
    return { data: page.items.map((x) => pickFields(x, fields)), nextCursor: page.nextCursor };
  });

  app.get('/segments/:id/count', {
    schema: {
      tags, operationId: 'countSegmentContacts', summary: 'How many contacts the segment holds now',
      params: SegmentId, querystring: countQuerySchema(memberOptions), response: withProblems({ 200: Count }),
    },
  }, async (req) => ({ count: await segments.memberCount(contextOf(req), req.params.id, toListParams(req.query)) }));

  app.patch('/segments/:id', {
    schema: { tags, operationId: 'updateSegment', summary: 'Change a segment (JSON merge patch; rules replace whole; If-Match optional)', params: SegmentId, body: SegmentPatch, response: withProblems({ 200: Segment }) },
  }, async (req, reply) => {
    const segment = await segments.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, segment);
    return segment;
  });

  app.delete('/segments/:id', {
    schema: { tags, operationId: 'deleteSegment', summary: 'Delete a segment (soft; restore undoes)', params: SegmentId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await segments.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/segments/:id/restore', {
    schema: { tags, operationId: 'restoreSegment', summary: 'Restore a deleted segment', params: SegmentId, response: withProblems({ 200: Segment }) },
  }, async (req, reply) => {
    const segment = await segments.restore(contextOf(req), req.params.id);
    setEtag(reply, segment);
    return segment;
  });
};
