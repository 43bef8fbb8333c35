import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { isAppError } from '../../platform/errors/app-error.js';
import type { EventRow } from '../../platform/events/feed.js';
import { DELIVERY_TIMEOUT_MS, USER_AGENT, sendWebhook } from '../integration/index.js';
import { renderContent, renderSubject } from './campaign-content.js';
import type { Mailer } from './mailer.js';
import type { ActionResult, WorkflowAction, WorkflowRunRow } from './workflow.table.js';
import * as campaignRepo from './campaign.repository.js';
import { nextInTurn } from './workflow.repository.js';

// The seven workflow actions (API.md §5b). Each goes through the owning module's service as the
// system, under the run's request id (`workflow:<id>:<depth>`), so validation, audit and events are
// the same as through the API, and the change feed knows which workflow made each change.

type Dto = Record<string, unknown> & { id: string; version?: number };
/** a module's service for records an action may change */
export interface Updatable {
  get(ctx: RequestContext, id: string): Promise<unknown>;
  update(ctx: RequestContext, id: string, patch: unknown, expectedVersion?: number): Promise<unknown>;
}

export interface ActionDeps {
  db: Executor;
  /** contact, company, deal, lead, ticket */
  records: Record<string, Updatable>;
  createTask: (ctx: RequestContext, input: Record<string, unknown>) => Promise<{ id: string }>;
  teamMembers: (teamIds: readonly string[]) => Promise<Map<string, { id: string }[]>>;
  mailer: Mailer;
  unsubscribeUrl: (contactId: string) => string;
  allowPrivateNetworks: boolean;
}

export interface ActionInput {
  ctx: RequestContext;
  run: WorkflowRunRow;
  event: EventRow;
  /** the record the event carries (after, or before for a deletion) */
  record: Record<string, unknown> | null;
}

const ok = (a: WorkflowAction, detail: string, entityId?: string): ActionResult => ({ type: a.type, status: 'succeeded', detail, entityId });
const skip = (a: WorkflowAction, detail: string): ActionResult => ({ type: a.type, status: 'skipped', detail });

/** The contact a record is about: itself, a ticket's requester, a deal's first contact, an order's or activity's contact. */
function contactOf(entityType: string, r: Record<string, unknown> | null): string | undefined {
  if (!r) return undefined;
  if (entityType === 'contact') return r.id as string;
  const ids = r.contactIds as string[] | undefined;
  return (r.contactId ?? r.requesterId ?? ids?.[0] ?? r.convertedContactId ?? undefined) as string | undefined;
}

const OWNER_FIELD: Record<string, string> = { ticket: 'assigneeId' };
const TASK_LINK: Record<string, string> = { contact: 'contactId', company: 'companyId', deal: 'dealId', lead: 'leadId', ticket: 'ticketId' };

export function createActions(deps: ActionDeps) {
  function recordsOf(entityType: string): Updatable {
    const s = deps.records[entityType];
    if (!s) throw new Error(`a ${entityType} record cannot be changed by a workflow (contact, company, deal, lead or ticket only)`);
    return s;
  }

  /** A patch computed from the current record, retried once when someone else changed it in between. */
  async function patchWith(ctx: RequestContext, entityType: string, id: string, make: (current: Dto) => Record<string, unknown> | undefined) {
    const service = recordsOf(entityType);
    for (let attempt = 0; ; attempt++) {
      const current = await service.get(ctx, id) as Dto;
      const patch = make(current);
      if (!patch) return undefined;
      try {
        return await service.update(ctx, id, patch, current.version);
      } catch (e) {
        if (!(isAppError(e) && e.code === 'version_conflict') || attempt > 0) throw e;
      }
    }
  }

  async function contactFor(ctx: RequestContext, i: ActionInput): Promise<Dto | undefined> {
    const id = contactOf(i.event.entityType, i.record);
    return id ? (await recordsOf('contact').get(ctx, id)) as Dto : undefined;
  }

  const run: Record<WorkflowAction['type'], (a: WorkflowAction, i: ActionInput) => Promise<ActionResult>> = {
    async create_task(a, i) {
      const p = a.params as { subject: string; dueInMinutes?: number; assigneeId?: string };
      const link = TASK_LINK[i.event.entityType];
      const contactId = contactOf(i.event.entityType, i.record);
      const owner = p.assigneeId ?? i.record?.ownerId ?? i.record?.assigneeId ?? null;
      const task = await deps.createTask(i.ctx, {
        type: 'task', subject: p.subject, ownerId: owner,
        ...(p.dueInMinutes !== undefined ? { dueAt: new Date(Date.now() + p.dueInMinutes * 60_000).toISOString() } : {}),
        ...(link ? { [link]: i.event.entityId } : {}),
        ...(contactId && link !== 'contactId' ? { contactId } : {}),
      });
      return ok(a, `task ${task.id} created`, task.id);
    },

    async assign_owner(a, i) {
      const p = a.params as { userId?: string; teamId?: string };
      const field = OWNER_FIELD[i.event.entityType] ?? 'ownerId';
      let userId = p.userId;
      if (p.teamId) {
        const members = (await deps.teamMembers([p.teamId])).get(p.teamId) ?? [];
        userId = await inTransaction(deps.db, (tx) => nextInTurn(tx, i.run.workflowId, p.teamId as string, members.map((m) => m.id)));
        if (!userId) return { type: a.type, status: 'failed', detail: 'the team has no active member' };
      }
      await recordsOf(i.event.entityType).update(i.ctx, i.event.entityId, { [field]: userId, ...(p.teamId ? { teamId: p.teamId } : {}) });
      return ok(a, `${field} set to ${userId}`, i.event.entityId);
    },

    async add_tag(a, i) {
      const tag = String(a.params.tag);
      const done = await patchWith(i.ctx, i.event.entityType, i.event.entityId, (c) => {
        if (!Array.isArray(c.tags)) throw new Error(`a ${i.event.entityType} has no tags`);
        return c.tags.includes(tag) ? undefined : { tags: [...c.tags, tag] };
      });
      return done ? ok(a, `tagged ${tag}`, i.event.entityId) : skip(a, `already tagged ${tag}`);
    },

    async update_field(a, i) {
      const { field, value } = a.params as { field: string; value: unknown };
      const patch = field.startsWith('custom.') ? { custom: { [field.slice(7)]: value } } : { [field]: value };
      await recordsOf(i.event.entityType).update(i.ctx, i.event.entityId, patch);
      return ok(a, `${field} updated`, i.event.entityId);
    },

    async send_email(a, i) {
      const p = a.params as { subject: string; content: string };
      const contact = await contactFor(i.ctx, i);
      if (!contact?.email) return skip(a, 'the record names no contact with an email');
      if (!contact.emailOptIn) return skip(a, 'the contact has not opted in to email');
      if (!deps.mailer.configured) throw new Error('no mail server is configured: set SMTP_URL');
      const person = contact as unknown as Parameters<typeof renderContent>[1];
      const unsubscribeUrl = deps.unsubscribeUrl(contact.id);
      const info = await deps.mailer.send({
        to: String(contact.email), subject: renderSubject(p.subject, person),
        html: renderContent(p.content, person, { unsubscribeUrl, clickUrl: (link) => link }),
        headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'X-CRM-Workflow-Id': i.run.workflowId },
      });
      // the detail names the message, not the address: run logs are not erased with the person (GDPR)
      return ok(a, `sent (${info.messageId})`, contact.id);
    },

    async call_webhook(a, i) {
      const body = JSON.stringify({
        workflowId: i.run.workflowId, runId: i.run.id,
        event: { id: i.event.id, type: i.event.type, entityType: i.event.entityType, entityId: i.event.entityId, occurredAt: i.event.occurredAt.toISOString(), data: i.event.data },
      });
      const r = await sendWebhook(String(a.params.url), body, {
        'content-type': 'application/json', 'user-agent': USER_AGENT, 'x-crm-event-id': i.event.id, 'x-crm-workflow-id': i.run.workflowId,
      }, { timeoutMs: DELIVERY_TIMEOUT_MS, allowPrivateNetworks: deps.allowPrivateNetworks });
      return r.ok ? ok(a, `HTTP ${r.statusCode}`) : { type: a.type, status: 'failed', detail: r.error ?? 'failed' };
    },

    async enroll_in_campaign(a, i) {
      const contact = await contactFor(i.ctx, i);
      if (!contact?.email) return skip(a, 'the record names no contact with an email');
      if (!contact.emailOptIn) return skip(a, 'the contact has not opted in to email');
      const campaign = await campaignRepo.findCampaign(deps.db, String(a.params.campaignId));
      if (!campaign || campaign.deletedAt) throw new Error('the campaign no longer exists');
      if (!['draft', 'scheduled', 'sending'].includes(campaign.status)) throw new Error(`the campaign is ${campaign.status}`);
      const added = await campaignRepo.insertRecipient(deps.db, campaign.id, contact.id, String(contact.email));
      return added ? ok(a, `enrolled in ${campaign.name}`, contact.id) : skip(a, 'already a recipient');
    },
  };

  /** Runs one action; a failure is recorded as the action's result, never thrown. */
  return async (a: WorkflowAction, i: ActionInput): Promise<ActionResult> => {
    try {
      return await run[a.type](a, i);
    } catch (e) {
      const detail = isAppError(e) && e.errors?.length ? `${e.message}: ${e.errors.map((x) => `${x.path} ${x.message}`).join('; ')}` : (e as Error).message;
      return { type: a.type, status: 'failed', detail: detail.slice(0, 1000) };
    }
  };
}
