import { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial } from '../../platform/auth/permissions.js';
import { AppError, type FieldError, isAppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordChange } from '../../platform/events/record-change.js';
import { compileFilter, compileList, DEFAULT_LIMIT, MAX_LIMIT, toPage, type Page } from '../../platform/http/collection.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import { checkUrlStatically } from '../integration/index.js';
import { checkConditions } from './workflow-conditions.js';
import { WorkflowCreate, type WorkflowDto, WorkflowPatch, type WorkflowRunDto, toWorkflowDto, toWorkflowRunDto } from './workflow.schema.js';
import type { WorkflowAction, WorkflowRow, WorkflowTrigger } from './workflow.table.js';
import * as repo from './workflow.repository.js';
import * as campaigns from './campaign.repository.js';

const ENTITY = 'workflow';

export interface WorkflowServiceDeps {
  db: Executor;
  allowPrivateNetworks: boolean;
  /** which of these users are active (assign_owner and create_task name users) */
  activeUsers: (ids: readonly string[]) => Promise<Map<string, unknown>>;
  /** a scheduled workflow's conditions are segment rules: checked by compiling them */
  compileRules: (rules: Record<string, unknown>) => Promise<unknown>;
  now?: () => Date;
}

function parseId(id: string): string {
  if (!z.uuid().safeParse(id).success) throw validationFailed([{ path: 'id', message: 'must be a UUID' }]);
  return id;
}

/** Workflows (API.md §5 Marketing; resource `config`): every role reads, admin and manager write. */
export function createWorkflowService(deps: WorkflowServiceDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  /**
   * What the schema cannot see: conditions (a filter for event triggers, segment rules for schedules),
   * webhook addresses, and that named users and campaigns exist.
   */
  async function check(v: { trigger: WorkflowTrigger; conditions?: WorkflowDto['conditions'] | undefined; actions?: WorkflowAction[] | undefined }): Promise<void> {
    const errors: FieldError[] = [];
    if ('event' in v.trigger) {
      const { filter, ...rest } = v.conditions ?? {};
      errors.push(...Object.keys(rest).map((k) => ({ path: `conditions.${k}`, message: 'is not known here: an event trigger\'s conditions are {filter}' })));
      errors.push(...checkConditions({ filter: filter as Record<string, Record<string, unknown>> | undefined }));
    } else if (!v.conditions) {
      errors.push({ path: 'conditions', message: 'a schedule needs rules selecting the contacts it runs for' });
    } else {
      try {
        await deps.compileRules(v.conditions);
      } catch (e) {
        if (isAppError(e) && e.errors) errors.push(...e.errors.map((x) => ({ ...x, path: x.path.replace(/^rules/, 'conditions') })));
        else throw e;
      }
    }
    const users: { at: string; id: string }[] = [];
    for (const [i, a] of (v.actions ?? []).entries()) {
      const p = a.params;
      if (a.type === 'call_webhook') {
        const c = checkUrlStatically(String(p.url), deps.allowPrivateNetworks);
        if (!c.ok) errors.push({ path: `actions.${i}.params.url`, message: c.message });
      }
      if (a.type === 'enroll_in_campaign') {
        const found = await campaigns.findCampaign(db, String(p.campaignId));
        if (!found || found.deletedAt) errors.push({ path: `actions.${i}.params.campaignId`, message: 'does not reference a live campaign' });
        else if (found.channel !== 'email') errors.push({ path: `actions.${i}.params.campaignId`, message: 'is not an email campaign' });
      }
      if (typeof p.userId === 'string') users.push({ at: `actions.${i}.params.userId`, id: p.userId });
      if (typeof p.assigneeId === 'string') users.push({ at: `actions.${i}.params.assigneeId`, id: p.assigneeId });
    }
    const active = await deps.activeUsers(users.map((u) => u.id));
    for (const u of users) if (!active.has(u.id)) errors.push({ path: u.at, message: 'is not an active user' });
    if (errors.length) throw validationFailed(errors, 'The workflow is not valid');
  }

  const written = (tx: Executor, ctx: RequestContext, action: string, before: WorkflowRow | null, after: WorkflowRow) =>
    recordChange(tx, ctx, { entityType: ENTITY, action, entityId: after.id, before: before ? toWorkflowDto(before) : null, after: toWorkflowDto(after) });

  async function lockLive(tx: Executor, id: string): Promise<WorkflowRow> {
    const row = await repo.lockWorkflow(tx, parseId(id));
    if (!row || row.deletedAt) throw notFound('Workflow');
    return row;
  }

  function readable(ctx: RequestContext, includeDeleted: boolean | undefined): { includeDeleted: boolean } {
    assertCan(ctx.actor, 'config', 'read');
    if (includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    return { includeDeleted: includeDeleted ?? false };
  }

  return {
    async create(ctx: RequestContext, raw: unknown): Promise<WorkflowDto> {
      assertCan(ctx.actor, 'config', 'write');
      const input = parseInput(WorkflowCreate, raw);
      await check(input as { trigger: WorkflowTrigger; actions: WorkflowAction[] });
      const row = await inTransaction(db, async (tx) => {
        const created = await repo.insertWorkflow(tx, {
          name: input.name, description: input.description ?? null, enabled: input.enabled ?? true,
          trigger: input.trigger, conditions: input.conditions ?? null, actions: input.actions as WorkflowAction[],
          // a schedule's first pass is at once; the runner sets each next one
          nextRunAt: 'schedule' in input.trigger ? now() : null,
        });
        await written(tx, ctx, 'create', null, created);
        return created;
      });
      return toWorkflowDto(row);
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean } = {}): Promise<WorkflowDto> {
      const { includeDeleted } = readable(ctx, o.includeDeleted);
      const row = await repo.findWorkflow(db, parseId(id));
      if (!row || (row.deletedAt && !includeDeleted)) throw notFound('Workflow');
      return toWorkflowDto(row);
    },

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<WorkflowDto>> {
      const o = readable(ctx, q.includeDeleted);
      const list = compileList(repo.workflowCollection, q);
      const rows = await repo.listWorkflows(db, list, o);
      return toPage(list, rows, (r) => r as unknown as Record<string, unknown>, toWorkflowDto);
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      const o = readable(ctx, q.includeDeleted);
      return repo.countWorkflows(db, compileFilter(repo.workflowCollection, q.filter), o);
    },

    /** GET /workflows/:id/runs: newest first, with each action's result. */
    async runs(ctx: RequestContext, id: string, q: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<WorkflowRunDto>> {
      readable(ctx, false);
      const limit = q.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw validationFailed([{ path: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
      const row = await repo.findWorkflow(db, parseId(id));
      if (!row || row.deletedAt) throw notFound('Workflow');
      let after: { createdAt: Date; id: string } | undefined;
      if (q.cursor) {
        const c = decodeCursor(q.cursor);
        if (!c || c.s !== 'runs' || c.v.length !== 2 || typeof c.v[0] !== 'string' || Number.isNaN(Date.parse(c.v[0])) || !z.uuid().safeParse(c.v[1]).success) {
          throw validationFailed([{ path: 'cursor', message: 'is not a cursor of this listing' }]);
        }
        after = { createdAt: new Date(c.v[0]), id: c.v[1] as string };
      }
      const rows = await repo.listRuns(db, row.id, limit, after);
      const page = rows.slice(0, limit);
      const cursors = page.map((r) => encodeCursor({ s: 'runs', v: [r.createdAt.toISOString(), r.id] }));
      return { items: page.map(toWorkflowRunDto), cursors: () => cursors, nextCursor: rows.length > limit ? (cursors.at(-1) ?? null) : null };
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<WorkflowDto> {
      assertCan(ctx.actor, 'config', 'write');
      const patch = parseInput(WorkflowPatch, raw);
      // checked before the transaction: the checks read other tables, and a transaction should not wait on them
      const seen = await repo.findWorkflow(db, parseId(id));
      if (!seen || seen.deletedAt) throw notFound('Workflow');
      await check({ trigger: patch.trigger ?? seen.trigger, conditions: patch.conditions !== undefined ? patch.conditions : seen.conditions, actions: patch.actions as WorkflowAction[] | undefined });
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The workflow is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toWorkflowDto(current) },
          });
        }
        const changes = applyPatch(toWorkflowDto(current) as unknown as Record<string, unknown>, patch, []) as Partial<WorkflowRow>;
        if (Object.keys(changes).length === 0) return current;
        if (changes.trigger) changes.nextRunAt = 'schedule' in changes.trigger ? now() : null;
        const updated = await repo.updateWorkflow(tx, current.id, changes);
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      return toWorkflowDto(row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'config', 'write');
      await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        await written(tx, ctx, 'delete', current, await repo.updateWorkflow(tx, current.id, { deletedAt: new Date() }));
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<WorkflowDto> {
      assertCan(ctx.actor, 'config', 'write');
      assertManagerial(ctx.actor, 'restore records');
      const row = await inTransaction(db, async (tx) => {
        const current = await repo.lockWorkflow(tx, parseId(id));
        if (!current) throw notFound('Workflow');
        if (!current.deletedAt) return current;
        const restored = await repo.updateWorkflow(tx, current.id, { deletedAt: null });
        await written(tx, ctx, 'restore', current, restored);
        return restored;
      });
      return toWorkflowDto(row);
    },
  };
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;
