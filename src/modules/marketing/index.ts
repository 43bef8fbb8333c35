import type { FastifyPluginAsync } from 'fastify';
import type { SharedRedis } from '../../platform/redis/client.js';
import { localPace, sharedPace } from '../../platform/redis/pace.js';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import { consumeFeed } from '../../platform/events/consumer.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { type ModuleWorker, assembleModule } from '../../platform/module.js';
import { devJwtSecret } from '../../platform/auth/dev-secret.js';
import type { CustomerServices } from '../customer/index.js';
import type { UserService } from '../identity/index.js';
import type { PipelineServices } from '../pipeline/index.js';
import type { ServiceServices } from '../service/index.js';
import { createWorkflowService } from './workflow.service.js';
import { workflowRoutes } from './workflow.routes.js';
import { workflowResolvers } from './workflow.resolvers.js';
import { createActions } from './workflow-actions.js';
import { createWorkflowRunner } from './workflow-runner.js';
import { createSegmentService } from './segment.service.js';
import { segmentRoutes } from './segment.routes.js';
import { segmentResolvers } from './segment.resolvers.js';
import { createCampaignService } from './campaign.service.js';
import { campaignRoutes } from './campaign.routes.js';
import { campaignLoaders, campaignResolvers } from './campaign.resolvers.js';
import { SENDER_INTERVAL_MS, createCampaignSender } from './campaign-sender.js';
import { createEngagementService } from './engagement.service.js';
import { campaignGdprPart, campaignTimelineSource, moveCampaignLinks } from './campaign-links.js';
import { createMailer } from './mailer.js';
import { trackingKey } from './tracking-token.js';
import { trackingRoutes } from './tracking.routes.js';

export type MarketingServices = ReturnType<typeof marketingModule>['services'];
export { Segment, segmentFieldNames } from './segment.schema.js';
export { segmentFilterable, segmentSortable } from './segment.repository.js';
export { Campaign, campaignFieldNames } from './campaign.schema.js';
export { campaignFilterable, campaignSortable } from './campaign.repository.js';
export { Workflow, workflowFieldNames } from './workflow.schema.js';
export { workflowFilterable, workflowSortable } from './workflow.repository.js';

export interface MarketingModuleDeps {
  config: Config;
  db: Executor;
  /** members are contacts; engagement joins their timeline, merges and GDPR; unsubscribe links come from consent */
  customer: CustomerServices;
  /** workflow actions change deals, leads and tickets through their services, and assign users of teams */
  pipeline: PipelineServices;
  service: ServiceServices;
  users: Pick<UserService, 'teamMembers' | 'activeUsers'>;
  /** when REDIS_URL is set: CAMPAIGN_SEND_RATE becomes one rate for all processes together */
  redis?: SharedRedis | undefined;
}

/**
 * The marketing module's face (API.md §5 Marketing): segments evaluated live, email campaigns sent
 * over SMTP by every process's sender, tracking links and ingested engagement, conversions attributed
 * from the change feed.
 */
export function marketingModule({ config, db, customer, pipeline, service, users, redis }: MarketingModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const publicRoutes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  const workers: ModuleWorker[] = [];
  // tracking links are signed with a key derived from the JWT secret (in development, the one kept in DATA_DIR)
  let key: Buffer | undefined;
  const keyOf = () => (key ??= trackingKey(config.jwt.secret ?? devJwtSecret(config.dataDir)));

  // ---- segments (segment.*, segment-rules.ts) ----
  const segments = createSegmentService({ db, contacts: customer.contacts });
  routes.push(async (app) => app.register(segmentRoutes, { segments }));
  graphql.push({ resolvers: segmentResolvers(segments) });

  // ---- campaigns, sending and engagement (campaign.*, campaign-sender.ts, engagement.service.ts, tracking.*) ----
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.marketing.from });
  const campaigns = createCampaignService({ db, segments, contacts: customer.contacts, canSendEmail: () => mailer.configured });
  const engagement = createEngagementService({ db, trackingKey: keyOf, conversionWindowDays: config.marketing.conversionWindowDays });
  const sender = createCampaignSender({
    mailer, campaigns, publicBaseUrl: config.publicBaseUrl, ratePerSecond: config.marketing.sendRate,
    pace: redis ? sharedPace(redis, 'campaign-send', config.marketing.sendRate) : localPace(config.marketing.sendRate),
    unsubscribeToken: (contactId) => customer.consent.unsubscribeToken(contactId, 'email'), trackingKey: keyOf,
  });
  routes.push(async (app) => app.register(campaignRoutes, { campaigns, engagement }));
  publicRoutes.push(async (app) => app.register(trackingRoutes, { engagement }));
  graphql.push({ resolvers: campaignResolvers(campaigns, engagement), loaders: campaignLoaders(segments, campaigns) });
  // every process sends: recipients are claimed one by one (SKIP LOCKED), at CAMPAIGN_SEND_RATE each, or
  // at CAMPAIGN_SEND_RATE in all when the pace is shared through Redis
  if (mailer.configured) workers.push({ name: 'campaign sender', intervalMs: SENDER_INTERVAL_MS, run: (x) => sender.drain(x) });
  // orders paid after a click become that campaign's conversions, and unsubscribes count for the campaign
  // last mailed (a feed consumer: each event once, none lost)
  const types = ['order.created', 'order.updated', 'contact.unsubscribed'];
  const attribute = (x: Executor) => consumeFeed(x, 'campaign-attribution', { types }, async (tx, evs) => {
    for (const e of evs) {
      if (e.type === 'contact.unsubscribed') await engagement.attributeUnsubscribe(tx, e.entityId, e.occurredAt);
      else if (e.data.after) await engagement.attributeOrder(tx, e.data.after as Parameters<typeof engagement.attributeOrder>[1]);
    }
  });
  workers.push({ name: 'campaign attribution', intervalMs: 2000, run: attribute });
  customer.timeline.addSource(campaignTimelineSource);
  customer.merge.registerLinkMover('contact', moveCampaignLinks);
  customer.gdpr.addPart(campaignGdprPart);

  // ---- workflows (workflow.*, workflow-runner.ts, workflow-actions.ts) ----
  const workflows = createWorkflowService({
    db, allowPrivateNetworks: config.webhookAllowPrivateNetworks, activeUsers: (ids) => users.activeUsers(ids),
    compileRules: (rules) => segments.compile(rules),
  });
  const act = createActions({
    db,
    records: { contact: customer.contacts, company: customer.companies, deal: pipeline.deals, lead: pipeline.leads, ticket: service.tickets },
    createTask: (ctx, input) => customer.activities.create(ctx, input),
    teamMembers: (ids) => users.teamMembers(ids),
    mailer,
    unsubscribeUrl: (contactId) => `${config.publicBaseUrl.replace(/\/+$/, '')}/v1/unsubscribe?token=${customer.consent.unsubscribeToken(contactId, 'email')}`,
    allowPrivateNetworks: config.webhookAllowPrivateNetworks,
  });
  const runner = createWorkflowRunner({
    act, compileRules: (rules, ex) => segments.compile(rules, ex), contact: (ctx, id) => customer.contacts.get(ctx, id),
  });
  routes.push(async (app) => app.register(workflowRoutes, { workflows }));
  graphql.push({ resolvers: workflowResolvers(workflows) });
  // both steps coordinate through the database (cursor row lock, SKIP LOCKED), so every process runs them
  workers.push({ name: 'workflow fan-out', intervalMs: 1000, run: (x) => runner.fanOut(x) });
  workers.push({ name: 'workflow schedule', intervalMs: 15_000, run: (x) => runner.schedule(x) });
  workers.push({ name: 'workflow runs', intervalMs: 1000, run: (x) => runner.runDue(x) });

  const module = assembleModule({ segments, campaigns, engagement, sender, mailer, attribute, workflows, runner }, { routes, graphql, workers });
  return {
    ...module,
    publicRoutes: (async (app) => {
      for (const r of publicRoutes) await app.register(r);
    }) as FastifyPluginAsync,
  };
}
