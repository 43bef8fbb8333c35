import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import {
  assertCan, assertManagerial, assertOwnershipAssignable, can, inScope, scopeCondition,
} from '../../platform/auth/permissions.js';
import { AppError, type FieldError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import type { ContactDto } from './contact.schema.js';
import {
  FeedbackCreate, type FeedbackCreateInput, type FeedbackDto, FeedbackPatch, type FeedbackPatchInput, NpsAnswer, type NpsAnswerDto, SCORE_RANGES, toFeedbackDto,
} from './feedback.schema.js';
import type { FeedbackRow, FeedbackType } from './feedback.table.js';
import * as repo from './feedback.repository.js';
import type { TimelineItem, TimelineSource, View360Part } from './timeline.service.js';

export interface FeedbackServiceDeps {
  db: Executor;
  /** name and email of users by id, for `include=owner` (the identity module's summaries) */
  owners: (ids: readonly (string | null)[]) => Promise<Map<string, { id: string; name: string; email: string }>>;
  /** live contacts by id in the caller's scope, one query (include=contact, Feedback.contact) */
  contacts: (ctx: RequestContext, ids: readonly string[]) => Promise<Map<string, ContactDto>>;
}

const ENTITY = 'feedback';
/** Contact.feedback lists at most this many per contact (newest first); the rest is GET /v1/feedback?filter[contactId][eq]=… */
export const FEEDBACK_PER_CONTACT = 100;


function parseId(id: string): string {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
  return id;
}

/** The score is checked against the type it will have after the write, whichever of the two the write changes. */
function scoreError(type: FeedbackType, score: number): FieldError | undefined {
  const r = SCORE_RANGES[type];
  if (score >= r.min && score <= r.max) return undefined;
  return { path: 'score', message: `must be from ${r.min} to ${r.max} for ${type.toUpperCase()}` };
}

export function createFeedbackService(deps: FeedbackServiceDeps) {
  const { db } = deps;

  async function check(tx: Executor, input: FeedbackPatchInput, current?: FeedbackRow): Promise<void> {
    const type = input.type ?? current?.type;
    const score = input.score ?? current?.score;
    const bad = type !== undefined && score !== undefined && (input.type !== undefined || input.score !== undefined)
      ? scoreError(type, score) : undefined;
    if (bad) throw validationFailed([bad]);
    if (input.contactId && input.contactId !== current?.contactId && !(await repo.liveContactExists(tx, input.contactId))) {
      throw new AppError('invalid_reference', 'The contact does not exist', {
        errors: [{ path: 'contactId', message: 'does not reference an existing contact' }],
      });
    }
  }

  function assertWritable(ctx: RequestContext, row: FeedbackRow): void {
    const scope = assertCan(ctx.actor, 'feedback', 'write');
    if (!inScope(ctx.actor, scope, row)) throw new AppError('forbidden', 'Your role may change only feedback of yours or your teams');
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: FeedbackRow | null, after: FeedbackRow) {
    const b = before ? toFeedbackDto(before) : null;
    const a = toFeedbackDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
  }

  async function createIn(tx: Executor, ctx: RequestContext, input: FeedbackCreateInput): Promise<FeedbackRow> {
    await check(tx, input);
    const created = await repo.insertFeedback(tx, {
      ...input,
      ownerId: input.ownerId !== undefined ? input.ownerId : ctx.actor.type === 'user' ? ctx.actor.id : null,
      teamId: input.teamId !== undefined ? input.teamId : ctx.actor.teamIds[0] ?? null,
    });
    await written(tx, ctx, 'create', null, created);
    return created;
  }

  async function lockLive(tx: Executor, id: string): Promise<FeedbackRow> {
    const row = await repo.lockFeedback(tx, parseId(id));
    if (!row || row.deletedAt) throw notFound('Feedback');
    return row;
  }

  /** Embeds the requested relations: one query per relation, whatever the page size. */
  async function withIncludes(ctx: RequestContext, items: FeedbackDto[], include: readonly string[] | undefined): Promise<FeedbackDto[]> {
    if (!include?.length || items.length === 0) return items;
    const [owners, contacts] = await Promise.all([
      include.includes('owner') ? deps.owners(items.map((i) => i.ownerId)) : undefined,
      include.includes('contact') ? deps.contacts(ctx, [...new Set(items.map((i) => i.contactId))]) : undefined,
    ]);
    return items.map((i) => ({
      ...i,
      ...(owners ? { owner: i.ownerId ? (owners.get(i.ownerId) ?? null) : null } : {}),
      ...(contacts ? { contact: contacts.get(i.contactId) ?? null } : {}),
    }));
  }

  function readOptions(ctx: RequestContext, includeDeleted: boolean | undefined) {
    const scope = assertCan(ctx.actor, 'feedback', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return { includeDeleted: includeDeleted ?? false, scope: scopeCondition(ctx.actor, scope, repo.ownedColumns) };
  }

  return {
    owners: deps.owners,
    contacts: deps.contacts,

    async create(ctx: RequestContext, raw: unknown): Promise<FeedbackDto> {
      assertCan(ctx.actor, 'feedback', 'write');
      const input = parseInput(FeedbackCreate, raw);
      assertOwnershipAssignable(ctx.actor, input);
      return toFeedbackDto(await inTransaction(db, (tx) => createIn(tx, ctx, input)));
    },

    /** Inside another module's transaction (a ticket's satisfaction rating): same checks, audit and events as create. */
    async createIn(tx: Executor, ctx: RequestContext, raw: unknown): Promise<FeedbackDto> {
      assertCan(ctx.actor, 'feedback', 'write');
      const input = parseInput(FeedbackCreate, raw);
      assertOwnershipAssignable(ctx.actor, input);
      return toFeedbackDto(await createIn(tx, ctx, input));
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean; include?: readonly string[] | undefined } = {}): Promise<FeedbackDto> {
      const { scope } = readOptions(ctx, o.includeDeleted);
      const row = await repo.findFeedback(db, parseId(id), scope);
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Feedback');
      return (await withIncludes(ctx, [toFeedbackDto(row)], o.include))[0] as FeedbackDto;
    },

    async list(ctx: RequestContext, q: ParsedListQuery & { include?: readonly string[] | undefined }): Promise<Page<FeedbackDto>> {
      const o = readOptions(ctx, q.includeDeleted);
      const list = compileList(repo.feedbackCollection, q);
      const rows = await repo.listFeedback(db, list, o);
      const page = toPage(list, rows, (r) => r as unknown as Record<string, unknown>, toFeedbackDto);
      return { ...page, items: await withIncludes(ctx, page.items, q.include) };
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const o = readOptions(ctx, q.includeDeleted);
      return repo.countFeedback(db, compileFilter(repo.feedbackCollection, q.filter), o);
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<FeedbackDto> {
      assertCan(ctx.actor, 'feedback', 'write');
      const patch = parseInput(FeedbackPatch, raw);
      assertOwnershipAssignable(ctx.actor, patch);
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        assertWritable(ctx, current);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The feedback is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toFeedbackDto(current) },
          });
        }
        await check(tx, patch, current);
        const changes = applyPatch(current as unknown as Record<string, unknown>, patch, []) as Partial<repo.FeedbackInsert>;
        if (Object.keys(changes).length === 0) return current;
        const updated = await repo.updateFeedback(tx, current.id, changes);
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      return toFeedbackDto(row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'feedback', 'write');
      await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        assertWritable(ctx, current);
        await written(tx, ctx, 'delete', current, await repo.updateFeedback(tx, current.id, { deletedAt: new Date() }));
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<FeedbackDto> {
      assertCan(ctx.actor, 'feedback', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockFeedback(tx, parseId(id));
        if (!current) throw notFound('Feedback');
        if (!current.deletedAt) return current; // already live: restoring again changes nothing
        const restored = await repo.updateFeedback(tx, id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toFeedbackDto(row);
    },

    /** Live feedback of each contact (Contact.feedback), newest first: one query. */
    async ofContacts(ctx: RequestContext, contactIds: readonly string[]): Promise<Map<string, FeedbackDto[]>> {
      const { scope } = readOptions(ctx, false);
      const out = new Map<string, FeedbackDto[]>();
      for (const r of await repo.feedbackOfContacts(db, contactIds, FEEDBACK_PER_CONTACT, scope)) {
        out.set(r.contactId, [...(out.get(r.contactId) ?? []), toFeedbackDto(r)]);
      }
      return out;
    },

    /** The contact's newest NPS answer, or null when it gave none (360 view). */
    async lastNps(ctx: RequestContext, contactId: string): Promise<NpsAnswerDto | null> {
      const { scope } = readOptions(ctx, false);
      const row = await repo.lastNps(db, contactId, scope);
      return row ? { score: row.score, comment: row.comment, createdAt: row.createdAt.toISOString() } : null;
    },
  };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;

const LABELS: Record<FeedbackType, string> = { nps: 'NPS', csat: 'CSAT', ces: 'CES' };

/** Feedback on the contact timeline (`NPS 9: "Great service"`); companies' timelines show only their own records. */
export const feedbackTimelineSource: TimelineSource = {
  kinds: ['feedback'],
  branch(ctx, subject, keyset, fetch) {
    if (subject.entityType !== 'contact' || !can(ctx.actor, 'feedback', 'read')) return undefined;
    const scope = scopeCondition(ctx.actor, assertCan(ctx.actor, 'feedback', 'read'), repo.ownedColumns);
    return repo.timelineBranch(subject.id, keyset, fetch, scope);
  },
  toItem(r): TimelineItem {
    const d = r.record ?? {};
    const label = LABELS[d.type as FeedbackType] ?? String(d.type);
    const summary = typeof d.comment === 'string' ? `${label} ${String(d.score)}: "${d.comment}"` : `${label} ${String(d.score)}`;
    return { type: 'feedback', occurredAt: r.occurred_at, entityType: 'feedback', entityId: r.entity_id, summary, data: d };
  },
};

/** `lastNps` of the 360 view: one statement; absent for a role that may not read feedback (none today). */
export function lastNpsPart(feedback: FeedbackService): View360Part {
  return {
    key: 'lastNps',
    schema: NpsAnswer.nullable().optional().describe("the contact's newest NPS answer; null when it gave none"),
    load: (ctx, contact) => (can(ctx.actor, 'feedback', 'read') ? feedback.lastNps(ctx, contact.id) : Promise.resolve(undefined)),
  };
}
