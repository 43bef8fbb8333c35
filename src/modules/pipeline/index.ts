import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { can } from '../../platform/auth/permissions.js';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { type ModuleWorker, assembleModule } from '../../platform/module.js';
import type { CustomerServices } from '../customer/index.js';
import type { UserService } from '../identity/index.js';
import { createPipelineService } from './pipeline.service.js';
import { pipelineRoutes } from './pipeline.routes.js';
import { pipelineResolvers } from './pipeline.resolvers.js';
import { createForecastService } from './forecast.service.js';
import { forecastRoutes } from './forecast.routes.js';
import { forecastResolvers } from './forecast.resolvers.js';
import { createDealService } from './deal.service.js';
import { dealRoutes } from './deal.routes.js';
import { dealLoaders, dealResolvers } from './deal.resolvers.js';
import { createScoring } from './scoring.js';
import { createLeadService } from './lead.service.js';
import { leadRoutes } from './lead.routes.js';
import { leadLoaders, leadResolvers } from './lead.resolvers.js';
import { createScoringRuleService } from './scoring-rule.service.js';
import { scoringRuleRoutes } from './scoring-rule.routes.js';
import { scoringRuleResolvers } from './scoring-rule.resolvers.js';
import { createConversionService } from './conversion.service.js';
import { conversionRoutes } from './conversion.routes.js';
import { conversionResolvers } from './conversion.resolvers.js';
import { dealTimelineSource, leadTimelineSource } from './timeline-sources.js';
import { Deal } from './deal.schema.js';
import { Lead } from './lead.schema.js';
import { moveCompanyLinks, moveContactLinks } from './merge-links.js';
import { pipelineGdprPart } from './gdpr-part.js';

/** open deals in the 360 view; the rest are one `GET /v1/deals?filter[status][eq]=open` away */
const OPEN_DEALS_360 = 50;
/** a contact is converted from a lead once or a few times (merges bring more) */
const CONVERTED_LEADS_360 = 20;

export type PipelineServices = ReturnType<typeof pipelineModule>['services'];
export { Deal, dealFieldNames } from './deal.schema.js';
export { Lead, leadFieldNames } from './lead.schema.js';
export { dealFilterable, dealSortable } from './deal.repository.js';
export { leadFilterable, leadSortable } from './lead.repository.js';

export interface PipelineModuleDeps {
  config: Config;
  db: Executor;
  users: Pick<UserService, 'summaries'>;
  /** the customer module's services: custom fields, contacts and companies (conversion), activities (hooks), timeline (sources, 360 parts) */
  customer: CustomerServices;
}

/**
 * The pipeline module's face (API.md §5 "Pipeline"): pipelines and stages, deals with stage history,
 * leads with scoring and conversion, and the forecast. Each part adds its routes and GraphQL below.
 */
export function pipelineModule({ config, db, users, customer }: PipelineModuleDeps) {
  const routes: FastifyPluginAsync[] = [];
  const graphql: GraphqlModule[] = [];
  const workers: ModuleWorker[] = [];

  // ---- pipelines, stages and forecast (pipeline.*, forecast.*) ----
  const pipelines = createPipelineService({ db });
  routes.push(async (app) => app.register(pipelineRoutes, { pipelines }));
  graphql.push({ resolvers: pipelineResolvers(pipelines) });
  const forecast = createForecastService({ db });
  routes.push(async (app) => app.register(forecastRoutes, { forecast }));
  graphql.push({ resolvers: forecastResolvers(forecast) });

  // ---- deals (deal.*) ----
  const deals = createDealService({
    db, owners: (ids) => users.summaries(ids), companies: (ctx, ids) => customer.companies.getMany(ctx, ids),
    validateCustom: customer.customFields.validateCustom, customFields: customer.customFields.filterFields,
  });
  routes.push(async (app) => app.register(dealRoutes, { deals }));
  graphql.push({ resolvers: dealResolvers(deals), loaders: dealLoaders(deals) });

  // ---- leads, scoring rules and conversion (lead.*, scoring-rule.*, conversion.*) ----
  const scoring = createScoring({ customFields: customer.customFields });
  const leads = createLeadService({
    db, defaultPhoneRegion: config.defaultPhoneRegion, customFields: customer.customFields,
    owners: (ids) => users.summaries(ids), scoring,
  });
  const scoringRules = createScoringRuleService({ db, scoring });
  const conversion = createConversionService({ db, leads, customer, deals, pipelines });
  // Activity rules count a lead's activities: every activity write rescores the lead(s) it was and is linked to.
  customer.activities.onWrite(async (tx, _ctx, before, after) => {
    await scoring.rescoreIn(tx, [before?.leadId, after.leadId]);
  });
  // Activity windows age out with no write at all: an hourly pass lowers those scores.
  workers.push({ name: 'lead rescoring', intervalMs: 3_600_000, run: (x) => scoring.rescoreAll(x) });
  routes.push(async (app) => app.register(leadRoutes, { leads }));
  routes.push(async (app) => app.register(scoringRuleRoutes, { rules: scoringRules }));
  routes.push(async (app) => app.register(conversionRoutes, { conversion }));
  graphql.push({
    resolvers: leadResolvers(leads),
    loaders: leadLoaders(leads, {
      contacts: (ctx, ids) => customer.activities.contacts(ctx, ids),
      companies: (ctx, ids) => customer.companies.getMany(ctx, ids),
      deals: (ctx, ids) => deals.getMany(ctx, ids),
    }),
  });
  graphql.push({ resolvers: scoringRuleResolvers(scoringRules) });
  graphql.push({ resolvers: conversionResolvers(conversion) });

  // ---- timeline and 360 parts (timeline-sources.ts) ----
  customer.timeline.addSource(dealTimelineSource);
  customer.timeline.addSource(leadTimelineSource);
  customer.timeline.add360Part({
    key: 'openDeals',
    schema: z.array(Deal).optional().describe(`the contact's open deals, newest first, at most ${OPEN_DEALS_360}; absent for roles that may not read deals`),
    // a role without deals (support) still gets the rest of the 360 view, without this part
    load: (ctx, contact) => (can(ctx.actor, 'deals', 'read') ? deals.openDealsOfContact(ctx, contact.id, OPEN_DEALS_360) : Promise.resolve(undefined)),
  });
  customer.timeline.add360Part({
    key: 'convertedLeads',
    schema: z.array(Lead).optional().describe('the leads this contact was converted from, newest first; absent for roles that may not read leads'),
    load: async (ctx, contact) => {
      if (!can(ctx.actor, 'leads', 'read')) return undefined;
      const page = await leads.list(ctx, { filter: { convertedContactId: { eq: contact.id } }, sort: '-convertedAt', limit: CONVERTED_LEADS_360 });
      return page.items;
    },
  });
  // merging contacts or companies moves their deals and converted leads too (merge-links.ts)
  customer.merge.registerLinkMover('contact', moveContactLinks);
  customer.merge.registerLinkMover('company', moveCompanyLinks);
  // a person's GDPR export and erasure cover the leads they were and the deals they take part in
  customer.gdpr.addPart(pipelineGdprPart);

  return assembleModule({ pipelines, forecast, deals, leads, scoringRules, conversion }, { routes, graphql, workers });
}
