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
  Activity, ActivityBatch, ActivityCreate, ActivityId, ActivityList, ActivityPatch, activityFieldNames, activityIncludes,
} from './activity.schema.js';
import { activityFilterable, activitySortable } from './activity.repository.js';
import type { ActivityService } from './activity.service.js';

// `q` searches subject and body, normalised like contacts' names (search.ts) and trigram-indexed
const listOptions = { sortable: [...activitySortable, 'relevance (only with q, and then the default)'], filterable: activityFilterable, search: true, include: activityIncludes };
const tags = ['activities'];

export const activityRoutes: FastifyPluginAsyncZod<{ activities: ActivityService }> = async (app, { activities }) => {
  app.get('/activities', {
    schema: {
      tags, operationId: 'listActivities',
      summary: 'List activities ("my open tasks": filter[type][eq]=task&filter[ownerId][eq]=<me>&filter[completedAt][isNull]=true)',
      querystring: listQuerySchema(listOptions), response: withProblems({ 200: ActivityList }),
    },
  }, async (req) => {
    const fields = parseFields(req.query.fields, activityFieldNames);
    const include = parseInclude(req.query.include as string | undefined, activityIncludes);
    const page = await activities.list(contextOf(req), { ...toListParams(req.query), include });
    return { data: page.items.map((a) => pickFields(a, fields && include ? [...fields, ...include] : fields)), nextCursor: page.nextCursor };
  });

  app.get('/activities/count', {
    schema: { tags, operationId: 'countActivities', summary: 'Count activities matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await activities.count(contextOf(req), toListParams(req.query)) }));

  app.post('/activities', {
    schema: { tags, operationId: 'createActivity', summary: 'Record an activity or create a task', body: ActivityCreate, response: withProblems({ 201: Activity }) },
  }, async (req, reply) => {
    const activity = await activities.create(contextOf(req), req.body);
    setEtag(reply, activity);
    return reply.code(201).header('location', `/v1/activities/${activity.id}`).send(activity);
  });

  app.post('/activities/batch', {
    schema: {
      tags, operationId: 'batchActivities', summary: 'Create, update or delete up to 1000 activities (matched by id)',
      body: ActivityBatch, response: withProblems({ 200: BatchResponse }),
    },
  }, async (req) => ({ results: await activities.batch(contextOf(req), req.body) }));

  app.get('/activities/:id', {
    schema: {
      tags, operationId: 'getActivity', summary: 'Read an activity', params: ActivityId,
      querystring: recordQuerySchema({ include: activityIncludes }).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: Activity }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, activityFieldNames);
    const include = parseInclude(req.query.include as string | undefined, activityIncludes);
    const activity = await activities.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true', include });
    setEtag(reply, activity);
    return pickFields(activity, fields && include ? [...fields, ...include] : fields);
  });

  app.patch('/activities/:id', {
    schema: { tags, operationId: 'updateActivity', summary: 'Change an activity (JSON merge patch; If-Match optional)', params: ActivityId, body: ActivityPatch, response: withProblems({ 200: Activity }) },
  }, async (req, reply) => {
    const activity = await activities.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, activity);
    return activity;
  });

  app.delete('/activities/:id', {
    schema: { tags, operationId: 'deleteActivity', summary: 'Delete an activity (soft; restore undoes)', params: ActivityId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await activities.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/activities/:id/restore', {
    schema: { tags, operationId: 'restoreActivity', summary: 'Restore a deleted activity', params: ActivityId, response: withProblems({ 200: Activity }) },
  }, async (req, reply) => {
    const activity = await activities.restore(contextOf(req), req.params.id);
    setEtag(reply, activity);
    return activity;
  });
};
