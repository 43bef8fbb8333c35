import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/client.js';
import type { GraphqlModule } from '../../platform/graphql/index.js';
import { assembleModule } from '../../platform/module.js';
import { createCompanyService } from './company.service.js';
import { companyRoutes } from './company.routes.js';
import { companyResolvers, companyLoaders } from './company.resolvers.js';
import { createContactService } from './contact.service.js';
import { contactWithCompanyReader } from './contact-company-read.js';
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
import { createOrderService } from './order.service.js';
import { orderRoutes } from './order.routes.js';
import { orderLoaders, orderResolvers } from './order.resolvers.js';
import { createLoyaltyService } from './loyalty.service.js';
import { loyaltyRoutes } from './loyalty.routes.js';
import { loyaltyLoaders, loyaltyResolvers } from './loyalty.resolvers.js';
import { order360Parts, orderTimelineSource } from './order-timeline.js';
import { createFeedbackService, feedbackTimelineSource, lastNpsPart } from './feedback.service.js';
import { feedbackRoutes } from './feedback.routes.js';
import { feedbackLoaders, feedbackResolvers } from './feedback.resolvers.js';
import { createConsentService } from './consent.service.js';
import { consentRoutes } from './consent.routes.js';
import { consentResolvers } from './consent.resolvers.js';
import { devJwtSecret } from '../../platform/auth/dev-secret.js';
import { createDuplicateService } from './duplicate.service.js';
import { duplicateRoutes } from './duplicate.routes.js';
import { duplicateResolvers } from './duplicate.resolvers.js';
import { createGdprService } from './gdpr.service.js';
import { gdprRoutes } from './gdpr.routes.js';
import { gdprResolvers } from './gdpr.resolvers.js';
import { createMergeService } from './merge.service.js';
import { contactDuplicateWorker } from './duplicate-queue.js';
import { mergeRoutes } from './merge.routes.js';
import { mergeResolvers as mergeGraphqlResolvers } from './merge.resolvers.js';
import type { UserService } from '../identity/index.js';

export type { CompanyService } from './company.service.js';
export type { CompanyDto } from './company.schema.js';
export type { ContactService } from './contact.service.js';
export type { ContactDto } from './contact.schema.js';
export type { ActivityService } from './activity.service.js';
export type { ActivityDto } from './activity.schema.js';
export type { ActivityWriteHook } from './activity.service.js';
export type { TimelineItem, TimelineSource, View360Part } from './timeline.service.js';
export type { Person, PersonalDataPart, ErasedRecords } from './gdpr.service.js';
export type { KeysetPredicate, TimelineRow } from './timeline.repository.js';
export { Contact, toContactDto } from './contact.schema.js';
export { Company } from './company.schema.js';
export { contactFieldNames } from './contact.schema.js';
export { companyFieldNames } from './company.schema.js';
export { Activity, activityFieldNames } from './activity.schema.js';
export { Order, orderFieldNames } from './order.schema.js';
export { Feedback, feedbackFieldNames } from './feedback.schema.js';
export { contactFilterable, contactSortable } from './contact.repository.js';
export { companyFilterable, companySortable } from './company.repository.js';
export { activityFilterable, activitySortable } from './activity.repository.js';
export { orderFilterable, orderSortable } from './order.repository.js';
export { feedbackFilterable, feedbackSortable } from './feedback.repository.js';
export type { CustomFieldLookup, ValidateCustom } from './custom-values.js';
export { searchCondition, searchRank, searchTextOf, rankedCollection } from './search.js';
// Tables other modules may JOIN in their own reads (timelines, scores, reports). Writes to them go
// through this module's services only, so audit, events and validation cannot be bypassed.
export { activities as activityTable } from './activity.table.js';
export { contacts as contactTable } from './contact.table.js';
export { companies as companyTable } from './company.table.js';


export type { Module } from '../../platform/module.js';
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
    { resolvers: contactResolvers(contacts, contactWithCompanyReader(db)), loaders: contactLoaders(contacts, companies) },
    { resolvers: activityResolvers(activities), loaders: activityLoaders(activities) },
    { resolvers: timelineResolvers(timeline) },
  ];

  // ---- orders and loyalty (order.*, loyalty.*) ----
  const orders = createOrderService({ db, contact: (ctx, id) => contacts.get(ctx, id) });
  const loyalty = createLoyaltyService({ db, contact: (ctx, id) => contacts.get(ctx, id) });
  routes.push(async (app) => app.register(orderRoutes, { orders }));
  routes.push(async (app) => app.register(loyaltyRoutes, { loyalty }));
  graphql.push({ resolvers: orderResolvers(orders), loaders: orderLoaders(orders) });
  graphql.push({ resolvers: loyaltyResolvers(loyalty), loaders: loyaltyLoaders(loyalty) });
  timeline.addSource(orderTimelineSource);
  for (const part of order360Parts(db)) timeline.add360Part(part);

  // ---- feedback and consent (feedback.*, consent.*) ----
  const feedback = createFeedbackService({
    db, owners: (ids) => users.summaries(ids), contacts: (ctx, ids) => activities.contacts(ctx, ids),
  });
  routes.push(async (app) => app.register(feedbackRoutes, { feedback }));
  graphql.push({ resolvers: feedbackResolvers(feedback), loaders: feedbackLoaders(feedback) });
  timeline.addSource(feedbackTimelineSource);
  timeline.add360Part(lastNpsPart(feedback));
  // unsubscribe links are signed with a key derived from the JWT secret; in development server.ts
  // signs with the one it keeps in DATA_DIR, read here the same way (lazily: only when a link is made or used)
  const consent = createConsentService({ db, contacts, secret: () => config.jwt.secret ?? devJwtSecret(config.dataDir) });
  routes.push(async (app) => app.register(consentRoutes, { consent }));
  graphql.push({ resolvers: consentResolvers(consent) });

  // ---- duplicates and merge (duplicate.*, merge.*) ----
  const duplicates = createDuplicateService({ db });
  // other modules register movers of their links (merge.registerLinkMover): deals, leads, tickets, …
  const merge = createMergeService({ db });
  routes.push(async (app) => app.register(duplicateRoutes, { duplicates }));
  routes.push(async (app) => app.register(mergeRoutes, { merge }));
  // contact writes queue their candidate lookups; every process works the queue off (one pass at a time)
  const workers = [contactDuplicateWorker];
  graphql.push({ resolvers: duplicateResolvers(duplicates) });
  graphql.push({ resolvers: mergeGraphqlResolvers(merge) });

  // ---- GDPR export and erasure (gdpr.*) ----
  // other modules add what they hold about a person (gdpr.addPart): deals and leads, tickets, …
  const gdpr = createGdprService({ db });
  routes.push(async (app) => app.register(gdprRoutes, { gdpr }));
  graphql.push({ resolvers: gdprResolvers(gdpr) });

  return assembleModule({ companies, contacts, customFields, activities, timeline, orders, loyalty, feedback, consent, duplicates, merge, gdpr }, { routes, graphql, workers });
}
