import type { Executor } from '../../platform/db/client.js';
import { AppError, type FieldError, validationFailed } from '../../platform/errors/app-error.js';
import { fitsCurrency } from '../../platform/http/money.js';
import type { ValidateCustom } from '../customer/index.js';
import type { DealStatus } from './deal.table.js';
import type { DealPatchInput, DealRecord } from './deal.schema.js';
import type { StageRow } from './pipeline.table.js';
import * as repo from './deal.repository.js';

// What zod cannot check about a deal write: money against its currency, custom values, the stage
// (live, of the deal's pipeline) and what it implies (status, lostReason), and the references.
// Malformed values answer 400 first; only a well-formed write is checked for references (422).

export interface CheckedDeal {
  /** the input with custom values normalised and ids lower-cased */
  input: DealPatchInput;
  /** the status the deal will have: its stage's kind */
  status: DealStatus;
  /** the lostReason the deal will have: kept while lost, null otherwise */
  lostReason: string | null;
}

function checkMoney(input: DealPatchInput, current: DealRecord | undefined, errors: FieldError[]): void {
  if (input.currency === undefined && input.amount === undefined) return;
  const currency = input.currency !== undefined ? input.currency : current?.currency ?? null;
  const amount = input.amount !== undefined ? input.amount : current?.amount ?? null;
  if (amount !== null && currency === null) {
    errors.push({ path: 'currency', message: 'is required with amount' });
  } else if (amount !== null && currency !== null && !fitsCurrency(amount, currency)) {
    errors.push(input.amount !== undefined
      ? { path: 'amount', message: `has more decimals than ${currency} allows` }
      : { path: 'currency', message: `allows fewer decimals than the amount ${amount}` });
  }
}

/**
 * `stage` is the (locked) row of the stage the write names: undefined when the write names none,
 * null when the id names no stage at all.
 */
function checkStage(
  input: DealPatchInput, current: DealRecord | undefined, stage: StageRow | null | undefined, pipelineLive: boolean, errors: FieldError[],
): DealStatus {
  const pipelineId = input.pipelineId ?? current?.pipelineId;
  if (current && input.pipelineId !== undefined && input.pipelineId !== current.pipelineId && input.stageId === undefined) {
    errors.push({ path: 'stageId', message: 'is required to move the deal to another pipeline: a stage of that pipeline' });
  } else if (stage && !stage.deletedAt && pipelineLive && stage.pipelineId !== pipelineId) {
    errors.push({ path: 'stageId', message: `is not a stage of pipeline ${pipelineId}` });
  }
  const entering = stage && !stage.deletedAt && stage.id !== current?.stageId;
  return entering ? stage.kind : current?.status ?? 'open';
}

/** A lost deal needs a reason; it keeps it while lost and loses it with the lost stage. */
function checkLostReason(input: DealPatchInput, current: DealRecord | undefined, status: DealStatus, errors: FieldError[]): string | null {
  if (status !== 'lost') {
    if (input.lostReason !== undefined && input.lostReason !== null) {
      errors.push({ path: 'lostReason', message: `only lost deals have a lostReason; this deal is ${status}` });
    }
    return null;
  }
  const reason = input.lostReason !== undefined ? input.lostReason : current?.status === 'lost' ? current.lostReason : null;
  if (reason === null) errors.push({ path: 'lostReason', message: 'is required when the deal is lost' });
  return reason;
}

async function checkReferences(
  tx: Executor, input: DealPatchInput, current: DealRecord | undefined, stage: StageRow | null | undefined, pipelineLive: boolean,
) {
  const refs: FieldError[] = [];
  if (!pipelineLive) refs.push({ path: 'pipelineId', message: 'does not reference a live pipeline' });
  if (stage === null || stage?.deletedAt) refs.push({ path: 'stageId', message: 'does not reference a live stage' });
  if (input.companyId && input.companyId !== current?.companyId && !(await repo.liveCompanyExists(tx, input.companyId))) {
    refs.push({ path: 'companyId', message: 'does not reference a live company' });
  }
  if (input.contactIds?.length) {
    const found = await repo.liveContactIds(tx, input.contactIds);
    input.contactIds.forEach((id, i) => {
      if (!found.has(id)) refs.push({ path: `contactIds.${i}`, message: 'does not reference a live contact' });
    });
  }
  if (refs.length) throw new AppError('invalid_reference', 'A referenced record does not exist', { errors: refs });
}

const lower = (id: string | null | undefined) => (typeof id === 'string' ? id.toLowerCase() : id);

export async function checkDeal(
  tx: Executor,
  validateCustom: ValidateCustom,
  raw: DealPatchInput,
  current: DealRecord | undefined,
  stage: StageRow | null | undefined,
): Promise<CheckedDeal> {
  // ids compare with what Postgres answers, which is lower case
  const input: DealPatchInput = {
    ...raw,
    ...(raw.pipelineId !== undefined ? { pipelineId: raw.pipelineId.toLowerCase() } : {}),
    ...(raw.stageId !== undefined ? { stageId: raw.stageId.toLowerCase() } : {}),
    ...(raw.companyId !== undefined ? { companyId: lower(raw.companyId) } : {}),
    ...(raw.contactIds !== undefined ? { contactIds: raw.contactIds.map((id) => id.toLowerCase()) } : {}),
  };
  const errors: FieldError[] = [];
  checkMoney(input, current, errors);
  // an unknown pipeline is the one mistake (422), not also its stage's "other pipeline" (400)
  const pipelineLive = input.pipelineId === undefined || input.pipelineId === current?.pipelineId || (await repo.livePipelineExists(tx, input.pipelineId));
  const status = checkStage(input, current, stage, pipelineLive, errors);
  const lostReason = checkLostReason(input, current, status, errors);
  // Runs on create even without `custom`: required custom fields must then be reported missing.
  // Through the write's transaction: PGlite has one connection, which the transaction holds.
  const custom = await validateCustom('deal', input.custom ?? {}, current ? 'patch' : 'create', tx);
  errors.push(...custom.errors);
  if (errors.length) throw validationFailed(errors);
  await checkReferences(tx, input, current, stage, pipelineLive);
  return { input: input.custom !== undefined || !current ? { ...input, custom: custom.values } : input, status, lostReason };
}
