import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial } from '../../platform/auth/permissions.js';
import { AppError, type FieldError, isAppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { applyPatch } from '../../platform/http/merge-patch.js';
import type { ScoringRuleRow } from './lead.table.js';
import * as repo from './scoring-rule.repository.js';
import {
  ScoringRuleCreate, type ScoringRuleDto, ScoringRulePatch, toScoringRuleDto,
} from './scoring-rule.schema.js';
import { type Scoring, toFilterInput } from './scoring.js';

export interface ScoringRuleServiceDeps {
  db: Executor;
  scoring: Scoring;
}

const ENTITY = 'scoring_rule';
type Fields = Omit<ScoringRuleDto, 'id' | 'createdAt' | 'updatedAt' | 'version' | 'deletedAt'>;


const fieldsOf = (r: ScoringRuleRow): Fields => {
  const { id: _i, createdAt: _c, updatedAt: _u, version: _v, deletedAt: _d, ...rest } = toScoringRuleDto(r);
  return rest;
};

const toRow = (f: Partial<Fields>) => {
  const { direction, ...rest } = f;
  return direction === undefined ? rest : { ...rest, activityDirection: direction };
};

/** Scoring rules (resource `config`): every role reads, admin and manager write; each write rescores all open leads. */
export function createScoringRuleService(deps: ScoringRuleServiceDeps) {
  const { db, scoring } = deps;

  /** A rule must suit its kind, and a field rule's filter must compile against the lead collection. */
  async function check(tx: Executor, rule: Fields): Promise<void> {
    const errors: FieldError[] = [];
    const activityOnly = { activityType: rule.activityType, direction: rule.direction, withinDays: rule.withinDays };
    if (rule.kind === 'field') {
      if (!rule.filter) errors.push({ path: 'filter', message: 'is required for field rules' });
      for (const [k, v] of Object.entries(activityOnly)) if (v !== null) errors.push({ path: k, message: 'only activity rules have it' });
      if (rule.filter) {
        const parsed = toFilterInput(rule.filter);
        errors.push(...parsed.errors);
        if (!parsed.errors.length) {
          try {
            compileFilter(await scoring.ruleCollection(tx), parsed.filter);
          } catch (e) {
            if (!isAppError(e) || e.code !== 'validation_failed') throw e;
            errors.push(...(e.errors ?? []));
          }
        }
      }
    } else {
      if (rule.filter !== null) errors.push({ path: 'filter', message: 'only field rules have it' });
      if (rule.withinDays === null) errors.push({ path: 'withinDays', message: 'is required for activity rules' });
    }
    if (errors.length) throw validationFailed(errors);
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: ScoringRuleRow | null, after: ScoringRuleRow) {
    const b = before ? toScoringRuleDto(before) : null;
    const a = toScoringRuleDto(after);
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before: b, after: a });
    const type = { create: 'created', update: 'updated', delete: 'deleted' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before: b, after: a });
    // Every open lead's score may change: one statement, in this transaction, so the new rule and the
    // scores it implies commit together.
    await scoring.rescoreAllIn(tx);
  }

  async function lockLive(tx: Executor, id: string): Promise<ScoringRuleRow> {
    const row = await repo.lockRule(tx, id);
    if (!row || row.deletedAt) throw notFound('Scoring rule');
    return row;
  }

  return {
    async create(ctx: RequestContext, raw: unknown): Promise<ScoringRuleDto> {
      assertCan(ctx.actor, 'config', 'write');
      const input = parseInput(ScoringRuleCreate, raw);
      const rule: Fields = {
        name: input.name, enabled: input.enabled ?? true, kind: input.kind, points: input.points, filter: input.filter ?? null,
        activityType: input.activityType ?? null, direction: input.direction ?? null, withinDays: input.withinDays ?? null,
      };
      const row = await inTransaction(db, async (tx) => {
        await check(tx, rule);
        const created = await repo.insertRule(tx, toRow(rule) as Parameters<typeof repo.insertRule>[1]);
        await written(tx, ctx, 'create', null, created);
        return created;
      });
      return toScoringRuleDto(row);
    },

    async get(ctx: RequestContext, id: string): Promise<ScoringRuleDto> {
      assertCan(ctx.actor, 'config', 'read');
      const row = await repo.findRule(db, id);
      if (!row || row.deletedAt) throw notFound('Scoring rule');
      return toScoringRuleDto(row);
    },

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<ScoringRuleDto>> {
      assertCan(ctx.actor, 'config', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const list = compileList(repo.scoringRuleCollection, q);
      const rows = await repo.listRules(db, list, q.includeDeleted ?? false);
      return toPage(list, rows, (r) => r, toScoringRuleDto);
    },

    /** Every live rule (GraphQL `scoringRules`): configuration is small enough to answer whole. */
    async all(ctx: RequestContext): Promise<ScoringRuleDto[]> {
      assertCan(ctx.actor, 'config', 'read');
      return (await repo.liveRules(db)).map(toScoringRuleDto);
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<ScoringRuleDto> {
      assertCan(ctx.actor, 'config', 'write');
      const patch = parseInput(ScoringRulePatch, raw);
      const row = await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The scoring rule is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: toScoringRuleDto(current) },
          });
        }
        const before = fieldsOf(current);
        const changes = applyPatch(before as unknown as Record<string, unknown>, patch, ['filter']) as Partial<Fields>;
        if (Object.keys(changes).length === 0) return current;
        await check(tx, { ...before, ...changes });
        const updated = await repo.updateRule(tx, id, toRow(changes));
        await written(tx, ctx, 'update', current, updated);
        return updated;
      });
      return toScoringRuleDto(row);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'config', 'write');
      await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        await written(tx, ctx, 'delete', current, await repo.updateRule(tx, id, { deletedAt: new Date() }));
      });
    },
  };
}

export type ScoringRuleService = ReturnType<typeof createScoringRuleService>;
