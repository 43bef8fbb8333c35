import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import { consumeFeed } from '../../platform/events/consumer.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { type ModuleWorker, assembleModule } from '../../platform/module.js';
import { devJwtSecret } from '../../platform/auth/dev-secret.js';
import type { CustomerServices } from '../customer/index.js';
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

export interface MarketingModuleDeps {
  config: Config;
  db: Executor;
  /** members are contacts; engagement joins their timeline, merges and GDPR; unsubscribe links come from consent */
  customer: CustomerServices;
}

/**
 * The marketing module's face (API.md §5 Marketing): segments evaluated live, email campaigns sent
 * over SMTP by every process's sender, tracking links and ingested engagement, conversions attributed
 * from the change feed.
 */
export function marketingModule({ config, db, customer }: MarketingModuleDeps) {
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
    unsubscribeToken: (contactId) => customer.consent.unsubscribeToken(contactId, 'email'), trackingKey: keyOf,
  });
  routes.push(async (app) => app.register(campaignRoutes, { campaigns, engagement }));
  publicRoutes.push(async (app) => app.register(trackingRoutes, { engagement }));
  graphql.push({ resolvers: campaignResolvers(campaigns, engagement), loaders: campaignLoaders(segments, campaigns) });
  // every process sends: recipients are claimed one by one (SKIP LOCKED), at CAMPAIGN_SEND_RATE each
  if (mailer.configured) workers.push({ name: 'campaign sender', intervalMs: SENDER_INTERVAL_MS, run: (x) => sender.drain(x) });
  // orders paid after a click become that campaign's conversions (a feed consumer: once per order, none lost)
  const attribute = (x: Executor) => consumeFeed(x, 'campaign-conversions', { types: ['order.created', 'order.updated'] }, async (tx, evs) => {
    for (const e of evs) if (e.data.after) await engagement.attributeOrder(tx, e.data.after as Parameters<typeof engagement.attributeOrder>[1]);
  });
  workers.push({ name: 'campaign conversions', intervalMs: 2000, run: attribute });
  customer.timeline.addSource(campaignTimelineSource);
  customer.merge.registerLinkMover('contact', moveCampaignLinks);
  customer.gdpr.addPart(campaignGdprPart);

  const module = assembleModule({ segments, campaigns, engagement, sender, mailer, attribute }, { routes, graphql, workers });
  return {
    ...module,
    publicRoutes: (async (app) => {
      for (const r of publicRoutes) await app.register(r);
    }) as FastifyPluginAsync,
  };
}
