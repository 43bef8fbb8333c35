import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import { type GraphqlModule, mergeLoaders, mergeResolvers } from '../../platform/graphql/index.js';
import { createCompanyService } from './company.service.js';
import { companyRoutes } from './company.routes.js';
import { companyResolvers, companyLoaders } from './company.resolvers.js';
import { createContactService } from './contact.service.js';
import { contactRoutes } from './contact.routes.js';
import { contactLoaders, contactResolvers } from './contact.resolvers.js';
import { createCustomFieldService } from './custom-field.service.js';
import { customFieldRoutes } from './custom-field.routes.js';
import { customFieldResolvers } from './custom-field.resolvers.js';
import { createActivityService } from './activity.service.js';
import { activityRoutes } from './activity.routes.js';
import { activityLoaders, activityResolvers } from './activity.resolvers.js';
import { createTimelineService } from './timeline.service.js';
import { timelineRoutes } from './timeline.routes.js';
import { timelineResolvers } from './timeline.resolvers.js';
import type { UserService } from '../identity/index.js';

export type { CompanyService } from './company.service.js';
export type { CompanyDto } from './company.schema.js';
export type { ContactService } from './contact.service.js';
export type { ContactDto } from './contact.schema.js';
export type { ActivityService } from './activity.service.js';
export type { ActivityDto } from './activity.schema.js';
export type { ActivityWriteHook } from './activity.service.js';
export type { TimelineItem, TimelineSource, View360Part } from './timeline.service.js';
export type { KeysetPredicate, TimelineRow } from './timeline.repository.js';
export { Contact, toContactDto } from './contact.schema.js';
export { Company } from './company.schema.js';
export type { CustomFieldLookup, ValidateCustom } from './custom-values.js';
export { searchCondition, searchRank, searchTextOf, rankedCollection } from './search.js';
// Tables other modules may JOIN in their own reads (timelines, scores, reports). Writes to them go
// through this module's services only, so audit, events and validation cannot be bypassed.
export { activities as activityTable } from './activity.table.js';
export { contacts as contactTable } from './contact.table.js';
export { companies as companyTable } from './company.table.js';

export interface Module {
  routes: FastifyPluginAsync;
  graphql: GraphqlModule;
  /** periodic background work, started with the server's workers (never in tests that turn them off) */
  workers?: { name: string; intervalMs: number; run: (db: Executor) => Promise<number> }[];
}

export type CustomerServices = ReturnType<typeof customerModule>['services'];

/** The customer module's face: its REST plugin, its GraphQL part, and the services other modules may use. */
export function customerModule({ config, db, users }: { config: Config; db: Executor; users: Pick<UserService, 'summaries'> }) {
  const customFields = createCustomFieldService({ db, defaultPhoneRegion: config.defaultPhoneRegion });
  const companies = createCompanyService({
    db, defaultPhoneRegion: config.defaultPhoneRegion, owners: (ids) => users.summaries(ids),
    validateCustom: customFields.validateCustom, customFields: customFields.filterFields,
  });
  const contacts = createContactService({
    db, defaultPhoneRegion: config.defaultPhoneRegion, owners: (ids) => users.summaries(ids),
    companies: (ctx, ids) => companies.getMany(ctx, ids),
    validateCustom: customFields.validateCustom, customFields: customFields.filterFields,
  });
  const activities = createActivityService({
    db, owners: (ids) => users.summaries(ids), companies: (ctx, ids) => companies.getMany(ctx, ids),
  });
  const timeline = createTimelineService({
    db, contact: (ctx, id) => contacts.get(ctx, id), companies: (ctx, ids) => companies.getMany(ctx, ids),
  });
  const routes: FastifyPluginAsync[] = [
    async (app) => app.register(companyRoutes, { companies }),
    async (app) => app.register(contactRoutes, { contacts }),
    async (app) => app.register(customFieldRoutes, { customFields }),
    async (app) => app.register(activityRoutes, { activities }),
    async (app) => app.register(timelineRoutes, { timeline }),
  ];
  // loaders merge per type: Company.owner comes from companyLoaders and Company.contacts from contactLoaders
  const graphql: GraphqlModule[] = [
    { resolvers: companyResolvers(companies), loaders: companyLoaders(companies) },
    { resolvers: customFieldResolvers(customFields) },
    { resolvers: contactResolvers(contacts), loaders: contactLoaders(contacts, companies) },
    { resolvers: activityResolvers(activities), loaders: activityLoaders(activities) },
    { resolvers: timelineResolvers(timeline) },
  ];

  // ---- orders and loyalty (order.*, loyalty.*) ----

  // ---- feedback and consent (feedback.*, consent.*) ----

  // ---- duplicates and merge (duplicate.*, merge.*) ----

  return {
    services: { companies, contacts, customFields, activities, timeline },
    routes: (async (app) => {
      for (const r of routes) await app.register(r);
    }) as FastifyPluginAsync,
    graphql: {
      resolvers: mergeResolvers(graphql),
      loaders: mergeLoaders(graphql.map((g) => g.loaders)),
    },
  } satisfies Module & { services: unknown };
}
