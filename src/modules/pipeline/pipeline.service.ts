import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { newId } from '../../platform/db/columns.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial } from '../../platform/auth/permissions.js';
import { AppError, type FieldError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileFilter, compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import {
  PipelineCreate, type PipelineDto, PipelinePatch, type PipelineStageDto, type StagePatchInput, toPipelineDto, toStageDto,
} from './pipeline.schema.js';
import type { PipelineRow, StageInsert, StageRow } from './pipeline.table.js';
import * as repo from './pipeline.repository.js';

const ENTITY = 'pipeline';


interface StagePlan {
  inserts: StageInsert[];
  updates: { id: string; values: Partial<StageInsert> }[];
  removals: StageRow[];
}

const nameKey = (name: string) => name.trim().toLocaleLowerCase();

/**
 * Turns the whole new stage list into inserts, updates and removals against the live stages.
 * Positions default to the array index, so reordering the array reorders the stages. Stage names are
 * unique within a pipeline ignoring case ("Won" and "won" would be indistinguishable on a board).
 */
function planStages(pipelineId: string, list: readonly StagePatchInput[], current: readonly StageRow[]): StagePlan {
  const byId = new Map(current.map((s) => [s.id, s]));
  const errors: FieldError[] = [];
  const seenIds = new Set<string>();
  const names = new Map<string, number>();
  const positions = new Map<number, number>();
  const plan: StagePlan = { inserts: [], updates: [], removals: [] };
  list.forEach((e, i) => {
    const existing = e.id !== undefined ? byId.get(e.id) : undefined;
    if (e.id !== undefined) {
      if (!existing) errors.push({ path: `stages.${i}.id`, message: 'is not a stage of this pipeline' });
      else if (seenIds.has(e.id)) errors.push({ path: `stages.${i}.id`, message: 'is listed twice' });
      seenIds.add(e.id);
    } else {
      if (e.name === undefined) errors.push({ path: `stages.${i}.name`, message: 'is required for a new stage' });
      if (e.probability === undefined) errors.push({ path: `stages.${i}.probability`, message: 'is required for a new stage' });
    }
    const name = e.name ?? existing?.name;
    const position = e.position ?? i;
    if (name !== undefined) {
      if (names.has(nameKey(name))) errors.push({ path: `stages.${i}.name`, message: `is the name of stage ${names.get(nameKey(name))} too` });
      else names.set(nameKey(name), i);
    }
    if (positions.has(position)) errors.push({ path: `stages.${i}.position`, message: `is the position of stage ${positions.get(position)} too` });
    else positions.set(position, i);
    if (e.id === undefined) {
      plan.inserts.push({
        id: newId(), pipelineId, name: e.name ?? '', probability: e.probability ?? 0, position, kind: e.kind ?? 'open',
      });
    } else if (existing) {
      const next = { name: name ?? existing.name, probability: e.probability ?? existing.probability, position, kind: e.kind ?? existing.kind };
      const values = Object.fromEntries(
        Object.entries(next).filter(([k, v]) => v !== existing[k as keyof typeof next]),
      ) as Partial<StageInsert>;
      if (Object.keys(values).length) plan.updates.push({ id: existing.id, values });
    }
  });
  if (errors.length) throw validationFailed(errors);
  plan.removals = current.filter((s) => !seenIds.has(s.id));
  return plan;
}

/**
 * Deal status follows its stage's kind (API.md §5), so changing the kind of a stage that holds live
 * deals would silently win or lose them, and removing such a stage would orphan them: both are 409
 * until the deals are moved. Probabilities and names may change freely; the forecast reads them live.
 */
async function refuseStagesWithDeals(tx: Executor, plan: StagePlan, list: readonly StagePatchInput[]): Promise<void> {
  const kindChanged = plan.updates.filter((u) => u.values.kind !== undefined).map((u) => u.id);
  const counts = await repo.liveDealsPerStage(tx, [...plan.removals.map((s) => s.id), ...kindChanged]);
  if (counts.size === 0) return;
  const errors: FieldError[] = [];
  const named: string[] = [];
  for (const s of plan.removals) {
    const n = counts.get(s.id);
    if (n) {
      errors.push({ path: 'stages', message: `stage "${s.name}" (${s.id}) still has ${n} live deal(s)` });
      named.push(`"${s.name}"`);
    }
  }
  list.forEach((e, i) => {
    const n = e.id !== undefined && kindChanged.includes(e.id) ? counts.get(e.id) : undefined;
    if (n) {
      errors.push({ path: `stages.${i}.kind`, message: `cannot change while the stage has ${n} live deal(s)` });
      named.push(`"${e.name ?? e.id}"`);
    }
  });
  throw new AppError('conflict', `Stage ${named.join(', ')} still has live deals; move them to another stage first`, { errors });
}

export function createPipelineService({ db }: { db: Executor }) {
  async function dtoOf(x: Executor, row: PipelineRow): Promise<PipelineDto> {
    return toPipelineDto(row, await repo.stagesOf(x, row.id));
  }

  async function written(tx: Executor, ctx: RequestContext, action: string, before: PipelineDto | null, after: PipelineDto) {
    await recordAudit(tx, ctx, { action, entityType: ENTITY, entityId: after.id, before, after });
    const type = { create: 'created', update: 'updated', delete: 'deleted', restore: 'restored' }[action] ?? action;
    await emit(tx, ctx, { type: `${ENTITY}.${type}`, entityType: ENTITY, entityId: after.id, before, after });
  }

  /** Clears the current default (other than `id`) in the caller's transaction; that change is audited too. */
  async function clearOtherDefault(tx: Executor, ctx: RequestContext, id: string): Promise<void> {
    await repo.lockDefaultSwitch(tx);
    const other = await repo.lockOtherDefault(tx, id);
    if (!other) return;
    const stages = await repo.stagesOf(tx, other.id);
    const cleared = await repo.updatePipeline(tx, other.id, { isDefault: false });
    await written(tx, ctx, 'update', toPipelineDto(other, stages), toPipelineDto(cleared, stages));
  }

  async function lockLive(tx: Executor, id: string): Promise<PipelineRow> {
    const row = await repo.lockPipeline(tx, id);
    if (!row || row.deletedAt) throw notFound('Pipeline');
    return row;
  }

  async function applyStages(tx: Executor, plan: StagePlan): Promise<void> {
    await repo.softDeleteStages(tx, plan.removals.map((s) => s.id));
    for (const u of plan.updates) await repo.updateStage(tx, u.id, u.values);
    await repo.insertStages(tx, plan.inserts);
  }

  return {
    /** The live stages of a pipeline, by position (for other parts of the module). */
    async stagesOf(x: Executor, pipelineId: string): Promise<PipelineStageDto[]> {
      return (await repo.stagesOf(x, pipelineId)).map(toStageDto);
    },

    /** The live default pipeline and its first open stage: lead conversion's choice when none is named. */
    async defaultPipeline(x: Executor): Promise<{ pipeline: PipelineDto; firstOpenStage: PipelineStageDto | null } | undefined> {
      const d = await repo.defaultPipeline(x);
      if (!d) return undefined;
      return { pipeline: toPipelineDto(d.pipeline, d.stages), firstOpenStage: d.firstOpenStage ? toStageDto(d.firstOpenStage) : null };
    },

    async create(ctx: RequestContext, raw: unknown): Promise<PipelineDto> {
      assertCan(ctx.actor, 'config', 'write');
      const input = parseInput(PipelineCreate, raw);
      const id = newId();
      const plan = planStages(id, input.stages, []);
      return inTransaction(db, async (tx) => {
        if (input.isDefault) await clearOtherDefault(tx, ctx, id);
        const row = await repo.insertPipeline(tx, { id, name: input.name, isDefault: input.isDefault ?? false });
        await repo.insertStages(tx, plan.inserts);
        const dto = await dtoOf(tx, row);
        await written(tx, ctx, 'create', null, dto);
        return dto;
      });
    },

    async get(ctx: RequestContext, id: string, o: { includeDeleted?: boolean } = {}): Promise<PipelineDto> {
      assertCan(ctx.actor, 'config', 'read');
      if (o.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const row = await repo.findPipeline(db, id);
      if (!row || (row.deletedAt && !o.includeDeleted)) throw notFound('Pipeline');
      return dtoOf(db, row);
    },

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<PipelineDto>> {
      assertCan(ctx.actor, 'config', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
      const list = compileList(repo.pipelineCollection, q);
      const rows = await repo.listPipelines(db, list, { includeDeleted: q.includeDeleted ?? false });
      const stages = await repo.stagesOfPipelines(db, rows.slice(0, list.limit).map((r) => r.id));
      return toPage(list, rows, (r) => r as unknown as Record<string, unknown>, (r) => toPipelineDto(r, stages.get(r.id) ?? []));
    },

    async count(ctx: RequestContext, q: ParsedListQuery): Promise<number> {
      assertCan(ctx.actor, 'config', 'read');
      if (q.includeDeleted) assertManagerial(ctx.actor, 'count deleted records');
      return repo.countPipelines(db, compileFilter(repo.pipelineCollection, q.filter), { includeDeleted: q.includeDeleted ?? false });
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<PipelineDto> {
      assertCan(ctx.actor, 'config', 'write');
      const patch = parseInput(PipelinePatch, raw);
      return inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        const currentStages = await repo.lockStages(tx, id);
        const before = toPipelineDto(current, currentStages);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new AppError('version_conflict', `The pipeline is at version ${current.version}, not ${expectedVersion}`, {
            extensions: { current: before },
          });
        }
        const changes: { name?: string; isDefault?: boolean } = {};
        if (patch.name !== undefined && patch.name !== current.name) changes.name = patch.name;
        if (patch.isDefault !== undefined && patch.isDefault !== current.isDefault) changes.isDefault = patch.isDefault;
        const plan = patch.stages ? planStages(id, patch.stages, currentStages) : undefined;
        if (plan && patch.stages) await refuseStagesWithDeals(tx, plan, patch.stages);
        const stagesChange = plan && (plan.inserts.length || plan.updates.length || plan.removals.length);
        if (!stagesChange && Object.keys(changes).length === 0) return before;
        if (changes.isDefault) await clearOtherDefault(tx, ctx, id);
        if (plan) await applyStages(tx, plan);
        const after = await dtoOf(tx, await repo.updatePipeline(tx, id, changes));
        await written(tx, ctx, 'update', before, after);
        return after;
      });
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'config', 'write');
      await inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id);
        const stages = await repo.lockStages(tx, id);
        const n = await repo.liveDealsInPipeline(tx, id);
        if (n) throw new AppError('conflict', `The pipeline still has ${n} live deal(s); move or delete them first`);
        const row = await repo.updatePipeline(tx, id, { deletedAt: new Date() });
        await written(tx, ctx, 'delete', toPipelineDto(current, stages), toPipelineDto(row, stages));
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<PipelineDto> {
      assertCan(ctx.actor, 'config', 'write');
      assertManagerial(ctx.actor, 'restore records');
      return inTransaction(db, async (tx) => {
        const current = await repo.lockPipeline(tx, id);
        if (!current) throw notFound('Pipeline');
        if (!current.deletedAt) return dtoOf(tx, current); // already live: restoring again changes nothing
        // a default deleted meanwhile replaced stays replaced: the restored pipeline comes back as non-default
        let isDefault = current.isDefault;
        if (isDefault) {
          await repo.lockDefaultSwitch(tx);
          if (await repo.lockOtherDefault(tx, id)) isDefault = false;
        }
        const before = await dtoOf(tx, current);
        const after = await dtoOf(tx, await repo.updatePipeline(tx, id, { deletedAt: null, isDefault }));
        await written(tx, ctx, 'restore', before, after);
        return after;
      });
    },
  };
}

export type PipelineService = ReturnType<typeof createPipelineService>;
