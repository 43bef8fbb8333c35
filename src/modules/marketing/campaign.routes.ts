import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { Count } from '../../platform/http/common.schema.js';
import {
  countQuerySchema, listQuerySchema, parseFields, pickFields, recordQuerySchema, toListParams,
} from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import {
  Campaign, CampaignCreate, CampaignEventsIngest, CampaignEventsResult, CampaignId, CampaignList, CampaignPatch, CampaignSend,
  CampaignStats, campaignFieldNames,
} from './campaign.schema.js';
import { campaignFilterable, campaignSortable } from './campaign.repository.js';
import type { CampaignService } from './campaign.service.js';
import type { EngagementService } from './engagement.service.js';

const listOptions = { sortable: campaignSortable, filterable: campaignFilterable };
const tags = ['campaigns'];

/** Campaigns (API.md §5 Marketing): admin, manager and marketing write; sales and viewer read. */
export const campaignRoutes: FastifyPluginAsyncZod<{ campaigns: CampaignService; engagement: EngagementService }> = async (app, { campaigns, engagement }) => {
  app.get('/campaigns', {
    schema: { tags, operationId: 'listCampaigns', summary: 'List campaigns', querystring: listQuerySchema(listOptions), response: withProblems({ 200: CampaignList }) },
  }, async (req) => {
    const fields = parseFields(req.query.fields, campaignFieldNames);
    const page = await campaigns.list(contextOf(req), toListParams(req.query));
    return { data: page.items.map((x) => pickFields(x, fields)), nextCursor: page.nextCursor };
  });

  app.get('/campaigns/count', {
    schema: { tags, operationId: 'countCampaigns', summary: 'Count campaigns matching the filters', querystring: countQuerySchema(listOptions), response: withProblems({ 200: Count }) },
  }, async (req) => ({ count: await campaigns.count(contextOf(req), toListParams(req.query)) }));

  app.post('/campaigns', {
    schema: { tags, operationId: 'createCampaign', summary: 'Create a campaign (a draft)', body: CampaignCreate, response: withProblems({ 201: Campaign }) },
  }, async (req, reply) => {
    const created = await campaigns.create(contextOf(req), req.body);
    setEtag(reply, created);
    return reply.code(201).header('location', `/v1/campaigns/${created.id}`).send(created);
  });

  app.get('/campaigns/:id', {
    schema: {
      tags, operationId: 'getCampaign', summary: 'Read a campaign', params: CampaignId,
      querystring: recordQuerySchema({}).extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
      response: withProblems({ 200: Campaign }),
    },
  }, async (req, reply) => {
    const fields = parseFields(req.query.fields, campaignFieldNames);
    const campaign = await campaigns.get(contextOf(req), req.params.id, { includeDeleted: req.query.includeDeleted === 'true' });
    setEtag(reply, campaign);
    return pickFields(campaign, fields);
  });

  app.patch('/campaigns/:id', {
    schema: { tags, operationId: 'updateCampaign', summary: 'Change a campaign (JSON merge patch; If-Match optional)', params: CampaignId, body: CampaignPatch, response: withProblems({ 200: Campaign }) },
  }, async (req, reply) => {
    const campaign = await campaigns.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, campaign);
    return campaign;
  });

  app.delete('/campaigns/:id', {
    schema: { tags, operationId: 'deleteCampaign', summary: 'Delete a campaign (soft; restore undoes; a sending campaign must be cancelled first)', params: CampaignId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await campaigns.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/campaigns/:id/restore', {
    schema: { tags, operationId: 'restoreCampaign', summary: 'Restore a deleted campaign', params: CampaignId, response: withProblems({ 200: Campaign }) },
  }, async (req, reply) => {
    const campaign = await campaigns.restore(contextOf(req), req.params.id);
    setEtag(reply, campaign);
    return campaign;
  });

  app.post('/campaigns/:id/send', {
    schema: {
      tags, operationId: 'sendCampaign',
      summary: 'Send an email campaign now (its segment\'s opted-in members are fixed as recipients) or schedule it with a future at',
      params: CampaignId, body: CampaignSend.optional(), response: withProblems({ 200: Campaign }),
    },
  }, async (req, reply) => {
    const campaign = await campaigns.send(contextOf(req), req.params.id, req.body);
    setEtag(reply, campaign);
    return campaign;
  });

  app.post('/campaigns/:id/cancel', {
    schema: { tags, operationId: 'cancelCampaign', summary: 'Cancel a draft, scheduled or sending campaign: nobody not yet mailed will be', params: CampaignId, response: withProblems({ 200: Campaign }) },
  }, async (req, reply) => {
    const campaign = await campaigns.cancel(contextOf(req), req.params.id);
    setEtag(reply, campaign);
    return campaign;
  });

  app.get('/campaigns/:id/stats', {
    schema: { tags, operationId: 'campaignStats', summary: 'Sent, delivered, opened, clicked, converted, unsubscribed and bounced (distinct contacts)', params: CampaignId, response: withProblems({ 200: CampaignStats }) },
  }, async (req) => campaigns.stats(contextOf(req), req.params.id));

  app.post('/campaigns/:id/events', {
    schema: {
      tags, operationId: 'ingestCampaignEvents', summary: 'Record engagement from other systems (up to 1000 events; all or nothing; externalId de-duplicates)',
      params: CampaignId, body: CampaignEventsIngest, response: withProblems({ 200: CampaignEventsResult }),
    },
  }, async (req) => engagement.ingest(contextOf(req), req.params.id, req.body));
};
