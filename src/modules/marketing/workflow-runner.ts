import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { systemContext } from '../../platform/auth/actor.js';
import { consumeFeed } from '../../platform/events/consumer.js';
import { events } from '../../platform/events/event.table.js';
import type { EventRow } from '../../platform/events/feed.js';
import { matchesType, toTypeFilter } from '../integration/index.js';
import { conditionsHold } from './workflow-conditions.js';
import type { ActionInput } from './workflow-actions.js';
import type { ActionResult, WorkflowAction } from './workflow.table.js';
import * as repo from './workflow.repository.js';

// Workflows run in two steps, both safe with several processes:
//   fan-out: a change-feed consumer turns each event into one pending run per matching workflow
//            (unique per workflow and event, committed with the cursor's advance: none lost, none twice);
//   runs:    pending runs are claimed one at a time (SKIP LOCKED), marked running before any action,
//            so a run is carried out at most once; a run a stopped process left running is retired.
// Loop protection: a change made by a workflow carries `workflow:<id>:<depth>` as its request id. It
// never triggers that workflow again, and nothing at all past MAX_DEPTH (A changes → B changes → A …).

export const MAX_DEPTH = 5;
export const RUN_LEASE_MS = 5 * 60_000;
const ORIGIN = /^workflow:([0-9a-f-]{36}):(\d+)$/;

export function originOf(requestId: string | null): { workflowId: string; depth: number } | undefined {
  const m = requestId ? ORIGIN.exec(requestId) : null;
  return m ? { workflowId: m[1] as string, depth: Number(m[2]) } : undefined;
}

export const recordOf = (e: EventRow): Record<string, unknown> | null =>
  (e.data.after ?? e.data.before ?? null) as Record<string, unknown> | null;

export interface RunnerDeps {
  act: (a: WorkflowAction, i: ActionInput) => Promise<ActionResult>;
  now?: () => Date;
}

export function createWorkflowRunner(deps: RunnerDeps) {
  const now = deps.now ?? (() => new Date());

  /** One fan-out pass over the feed; answers the number of events passed. */
  function fanOut(db: Executor, o: { batch?: number } = {}): Promise<number> {
    return consumeFeed(db, 'workflows', { batch: o.batch ?? 500 }, async (tx, evs) => {
      const flows = (await repo.enabledWorkflows(tx)).map((w) => ({ w, filter: toTypeFilter([w.trigger.event]) }));
      if (flows.length === 0) return;
      const runs: repo.RunInsert[] = [];
      for (const e of evs) {
        const origin = originOf(e.requestId);
        if (origin && origin.depth >= MAX_DEPTH) continue;
        for (const { w, filter } of flows) {
          // a workflow sees what happens after it exists, and never its own changes
          if (e.occurredAt < w.createdAt || origin?.workflowId === w.id || !matchesType(filter, e.type)) continue;
          if (!conditionsHold(w.conditions, recordOf(e))) continue;
          runs.push({ workflowId: w.id, eventId: e.id, eventType: e.type, entityType: e.entityType, entityId: e.entityId, depth: (origin?.depth ?? 0) + 1 });
        }
      }
      await repo.insertRuns(tx, runs);
    });
  }

  /** Claims and carries out pending runs for at most `budgetMs`; answers how many it ran. */
  async function runDue(db: Executor, o: { budgetMs?: number } = {}): Promise<number> {
    await repo.interruptStale(db, new Date(now().getTime() - RUN_LEASE_MS));
    const until = Date.now() + (o.budgetMs ?? 5000);
    let n = 0;
    while (Date.now() < until) {
      const run = await inTransaction(db, (tx) => repo.claimRun(tx, now()));
      if (!run) break;
      n++;
      const [workflow, event] = await Promise.all([repo.findWorkflow(db, run.workflowId), db.select().from(events).where(eq(events.id, run.eventId)).limit(1)]);
      const e = event[0];
      if (!workflow || !e) {
        await repo.finishRun(db, run.id, { status: 'failed', results: [], error: 'the workflow or its event no longer exists', finishedAt: now() });
        continue;
      }
      const ctx = systemContext(`workflow:${workflow.id}:${run.depth}`);
      const results: ActionResult[] = [];
      for (const a of workflow.actions) results.push(await deps.act(a, { ctx, run, event: e, record: recordOf(e) }));
      const failed = results.some((r) => r.status === 'failed');
      await repo.finishRun(db, run.id, { status: failed ? 'failed' : 'succeeded', results, error: failed ? 'an action failed' : null, finishedAt: now() });
    }
    return n;
  }

  return { fanOut, runDue };
}

export type WorkflowRunner = ReturnType<typeof createWorkflowRunner>;
