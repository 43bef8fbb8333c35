import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { AppError, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import type { CustomerServices } from '../customer/index.js';
import type { DealService } from './deal.service.js';
import type { PipelineService } from './pipeline.service.js';
import { LeadConvert, type LeadConvertInput, type LeadConversionDto, type LeadRead, toLeadDto } from './lead.schema.js';
import type { LeadService } from './lead.service.js';

export interface ConversionServiceDeps {
  db: Executor;
  leads: LeadService;
  customer: Pick<CustomerServices, 'contacts' | 'companies' | 'activities'>;
  deals: Pick<DealService, 'createIn'>;
  pipelines: Pick<PipelineService, 'defaultPipeline' | 'stagesOf'>;
}


const noPlacement = (message: string) =>
  new AppError('invalid_reference', 'The deal has nowhere to go', { errors: [{ path: 'pipelineId', message }] });

/** Only present values: the customer services treat an explicit null as "clear", absent as "default". */
const present = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

/**
 * The lead's owner and team for the new records, where the caller may assign them. A sales rep
 * converting a teammate's lead may not give records to that teammate (API.md §4: only admin and
 * manager assign to others), so those records default to the caller instead of refusing the conversion.
 */
function ownership(ctx: RequestContext, lead: LeadRead): { ownerId?: string | null; teamId?: string | null } {
  const { actor } = ctx;
  const managerial = actor.role === 'admin' || actor.role === 'manager';
  return {
    ...(managerial || lead.ownerId === null || lead.ownerId === actor.id ? { ownerId: lead.ownerId } : {}),
    ...(managerial || lead.teamId === null || actor.teamIds.includes(lead.teamId) ? { teamId: lead.teamId } : {}),
  };
}

/**
 * Lead conversion (API.md §5): contact, company, deal, relinked activities and the converted lead in
 * ONE transaction. The lead is locked first, so of two conversions at once the second waits and then
 * finds it converted (409); any failure (a bad deal currency, a required custom field) leaves nothing.
 */
export function createConversionService(deps: ConversionServiceDeps) {
  const { customer } = deps;

  /** The pipeline and stage of the new deal: as given, else the default pipeline and its first open stage. */
  async function placement(tx: Executor, input: LeadConvertInput): Promise<{ pipelineId: string; stageId: string }> {
    if (input.pipelineId) {
      if (input.stageId) return { pipelineId: input.pipelineId, stageId: input.stageId };
      const first = (await deps.pipelines.stagesOf(tx, input.pipelineId)).find((s) => s.kind === 'open');
      if (!first) throw noPlacement('names no pipeline with an open stage');
      return { pipelineId: input.pipelineId, stageId: first.id };
    }
    const d = await deps.pipelines.defaultPipeline(tx);
    if (!d) throw noPlacement('is required: there is no default pipeline');
    const stageId = input.stageId ?? d.firstOpenStage?.id;
    if (!stageId) throw noPlacement('the default pipeline has no open stage');
    return { pipelineId: d.pipeline.id, stageId };
  }

  const wantsDeal = (i: LeadConvertInput) => [i.dealName, i.pipelineId, i.stageId, i.amount].some((v) => v !== undefined);

  return {
    async convert(ctx: RequestContext, id: string, raw: unknown): Promise<LeadConversionDto> {
      assertCan(ctx.actor, 'leads', 'write');
      const input = parseInput(LeadConvert, raw ?? {});
      if (input.currency !== undefined && !wantsDeal(input)) {
        throw validationFailed([{ path: 'currency', message: 'is only used with a deal (dealName, pipelineId, stageId or amount)' }]);
      }
      return inTransaction(deps.db, async (tx) => {
        const lead = await deps.leads.lockLive(tx, ctx, id);
        if (lead.status === 'converted') {
          throw new AppError('conflict', 'The lead is already converted', { extensions: { current: toLeadDto(lead) } });
        }
        const own = ownership(ctx, lead);
        const company = lead.companyName || lead.companyDomain
          ? (await customer.companies.reuseOrCreateIn(tx, ctx, present({ name: lead.companyName ?? lead.companyDomain, domain: lead.companyDomain }))).company
          : null;
        const { contact } = await customer.contacts.reuseOrCreateIn(tx, ctx, {
          ...present({ firstName: lead.firstName, lastName: lead.lastName, email: lead.email, phone: lead.phone, source: lead.source, companyId: company?.id }),
          ...own,
        });
        let deal: LeadConversionDto['deal'] = null;
        if (wantsDeal(input)) {
          const person = [lead.firstName, lead.lastName].filter(Boolean).join(' ') || lead.email || lead.phone;
          deal = await deps.deals.createIn(tx, ctx, {
            name: input.dealName ?? `${company?.name ?? person} deal`,
            ...(await placement(tx, input)),
            ...present({ amount: input.amount, currency: input.currency, companyId: company?.id }),
            contactIds: [contact.id],
            ...own,
          }, { leadId: lead.id });
        }
        const links = { contactId: contact.id, companyId: company?.id ?? null, dealId: deal?.id ?? null };
        await customer.activities.relinkLeadIn(tx, ctx, lead.id, links);
        const after = await deps.leads.convertedIn(tx, ctx, lead, links);
        return { lead: toLeadDto(after), contact, company, deal };
      });
    },
  };
}

export type ConversionService = ReturnType<typeof createConversionService>;
