import {
  Activity, Company, Contact, Feedback, Order, activityFieldNames, activityFilterable, activitySortable, companyFieldNames,
  companyFilterable, companySortable, contactFieldNames, contactFilterable, contactSortable, feedbackFieldNames,
  feedbackFilterable, feedbackSortable, orderFieldNames, orderFilterable, orderSortable, type CustomerServices,
} from '../customer/index.js';
import {
  Deal, Lead, dealFieldNames, dealFilterable, dealSortable, leadFieldNames, leadFilterable, leadSortable, type PipelineServices,
} from '../pipeline/index.js';
import { Ticket, ticketFieldNames, ticketFilterable, ticketSortable, type ServiceServices } from '../service/index.js';
import {
  Campaign, Segment, Workflow, campaignFieldNames, campaignFilterable, campaignSortable, segmentFieldNames, segmentFilterable,
  segmentSortable, workflowFieldNames, workflowFilterable, workflowSortable, type MarketingServices,
} from '../marketing/index.js';
import type { ExportCollection } from './export.service.js';

// The collections that have GET /v1/<collection>/export: each one's list, DTO, fields and query
// options come from the module that owns it (the same the list route uses), so an export cannot
// accept a filter, sort or field its list refuses, nor show a record its list hides.

const RELEVANCE = 'relevance (only with q, and then the default)';

export function exportCollections(customer: CustomerServices, pipeline: PipelineServices, service: ServiceServices, marketing: MarketingServices): ExportCollection[] {
  return [
    {
      name: 'contacts', dto: Contact, fieldNames: contactFieldNames, customEntity: 'contact',
      query: { sortable: [...contactSortable, RELEVANCE], filterable: contactFilterable, search: true },
      list: (ctx, q) => customer.contacts.list(ctx, q),
    },
    {
      name: 'companies', dto: Company, fieldNames: companyFieldNames, customEntity: 'company',
      query: { sortable: companySortable, filterable: companyFilterable, search: true },
      list: (ctx, q) => customer.companies.list(ctx, q),
    },
    {
      name: 'activities', dto: Activity, fieldNames: activityFieldNames,
      query: { sortable: [...activitySortable, RELEVANCE], filterable: activityFilterable, search: true },
      list: (ctx, q) => customer.activities.list(ctx, q),
    },
    {
      name: 'leads', dto: Lead, fieldNames: leadFieldNames, customEntity: 'lead',
      query: { sortable: [...leadSortable, RELEVANCE], filterable: [...leadFilterable, 'custom.<key>'], search: true },
      list: (ctx, q) => pipeline.leads.list(ctx, q),
    },
    {
      name: 'deals', dto: Deal, fieldNames: dealFieldNames, customEntity: 'deal',
      query: { sortable: dealSortable, filterable: dealFilterable, search: true },
      list: (ctx, q) => pipeline.deals.list(ctx, q),
    },
    {
      name: 'orders', dto: Order, fieldNames: orderFieldNames,
      query: { sortable: orderSortable, filterable: orderFilterable },
      list: (ctx, q) => customer.orders.list(ctx, q),
    },
    {
      name: 'feedback', dto: Feedback, fieldNames: feedbackFieldNames,
      query: { sortable: feedbackSortable, filterable: feedbackFilterable },
      list: (ctx, q) => customer.feedback.list(ctx, q),
    },
    {
      name: 'tickets', dto: Ticket, fieldNames: ticketFieldNames, customEntity: 'ticket',
      query: { sortable: [...ticketSortable, RELEVANCE], filterable: ticketFilterable, search: true },
      list: (ctx, q) => service.tickets.list(ctx, q),
    },
    {
      name: 'segments', dto: Segment, fieldNames: segmentFieldNames,
      query: { sortable: segmentSortable, filterable: segmentFilterable },
      list: (ctx, q) => marketing.segments.list(ctx, q),
    },
    {
      name: 'campaigns', dto: Campaign, fieldNames: campaignFieldNames,
      query: { sortable: campaignSortable, filterable: campaignFilterable },
      list: (ctx, q) => marketing.campaigns.list(ctx, q),
    },
    {
      name: 'workflows', dto: Workflow, fieldNames: workflowFieldNames,
      query: { sortable: workflowSortable, filterable: workflowFilterable },
      list: (ctx, q) => marketing.workflows.list(ctx, q),
    },
  ];
}
