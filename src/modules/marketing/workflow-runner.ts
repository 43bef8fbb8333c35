import { type SQL, eq } from 'drizzle-orm';
import type { RequestContext } from '../../platform/auth/actor.js';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { systemContext } from '../../platform/auth/actor.js';
import { consumeFeed } from '../../platform/events/consumer.js';
import { events } from '../../platform/events/event.table.js';
import type { EventRow } from '../../platform/events/feed.js';
import { matchesType, toTypeFilter } from '../integration/index.js';
import { type Conditions, conditionsHold } from './workflow-conditions.js';
import type { ActionInput } from './workflow-actions.js';
import type { ActionResult, WorkflowAction, WorkflowRunRow } from './workflow.table.js';
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
  /** segment rules (a scheduled workflow's conditions) as a condition over contacts */
  compileRules: (rules: Record<string, unknown>, executor: Executor) => Promise<SQL>;
  /** a contact's JSON as the API shows it: the record of a scheduled run */
  contact: (ctx: RequestContext, id: string) => Promise<unknown>;
  now?: () => Date;
}

/** contacts one scheduled pass may select at most; the next pass takes up what a larger selection left */
export const MAX_SCHEDULED_CONTACTS = 10_000;

export function createWorkflowRunner(deps: RunnerDeps) {
  const now = deps.now ?? (() => new Date());

  /** One fan-out pass over the feed; answers the number of events passed. */
  function fanOut(db: Executor, o: { batch?: number } = {}): Promise<number> {
    return consumeFeed(db, 'workflows', { batch: o.batch ?? 500 }, async (tx, evs) => {
      const flows = (await repo.enabledWorkflows(tx)).flatMap((w) => ('event' in w.trigger ? [{ w, filter: toTypeFilter([w.trigger.event]) }] : []));
      if (flows.length === 0) return;
      const runs: repo.RunInsert[] = [];
      for (const e of evs) {
        const origin = originOf(e.requestId);
        if (origin && origin.depth >= MAX_DEPTH) continue;
        for (const { w, filter } of flows) {
          // a workflow sees what happens after it exists, and never its own changes
          if (e.occurredAt < w.createdAt || origin?.workflowId === w.id || !matchesType(filter, e.type)) continue;
          if (!conditionsHold(w.conditions as Conditions, recordOf(e))) continue;
          runs.push({ workflowId: w.id, eventId: e.id, eventType: e.type, entityType: e.entityType, entityId: e.entityId, depth: (origin?.depth ?? 0) + 1 });
        }
      }
      await repo.insertRuns(tx, runs);
    });
  }

  /**
   * Scheduled workflows whose pass is due: one pending run per contact their rules select (unique per
   * pass), and the next pass set, in one transaction; SKIP LOCKED lets one process take each workflow.
   */
  async function schedule(db: Executor): Promise<number> {
    return inTransaction(db, async (tx) => {
      const due = await repo.lockDueScheduled(tx, now(), 5);
      for (const w of due) {
        const every = 'schedule' in w.trigger ? w.trigger.schedule.everyMinutes : 60;
        const at = w.nextRunAt as Date;
        try {
          const ids = await repo.contactsWhere(tx, await deps.compileRules(w.conditions ?? {}, tx), MAX_SCHEDULED_CONTACTS);
          await repo.insertRuns(tx, ids.map((id) => ({
            workflowId: w.id, eventId: null, scheduledFor: at, eventType: 'workflow.scheduled', entityType: 'contact', entityId: id, depth: 1,
          })));
        } catch {
          // rules that no longer compile (a custom field deleted since): the pass is skipped, the schedule goes on
        }
        await repo.setNextRun(tx, w.id, new Date(Math.max(at.getTime(), now().getTime() - every * 60_000) + every * 60_000));
      }
      return due.length;
    });
  }

  /** The event a run answers: the feed's, or for a scheduled pass one made from the contact as it is now. */
  async function eventOf(db: Executor, run: WorkflowRunRow): Promise<EventRow | undefined> {
    if (run.eventId) return (await db.select().from(events).where(eq(events.id, run.eventId)).limit(1))[0];
    const contact = await deps.contact(systemContext(`workflow:${run.workflowId}:0`), run.entityId).catch(() => undefined);
    if (!contact) return undefined;
    return {
      id: run.id, seq: null, type: 'workflow.scheduled', entityType: 'contact', entityId: run.entityId, actorType: 'system', actorId: 'system',
      requestId: null, data: { before: null, after: contact }, occurredAt: run.scheduledFor ?? run.createdAt,
    };
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
      const [workflow, e] = await Promise.all([repo.findWorkflow(db, run.workflowId), eventOf(db, run)]);
      if (!workflow || !e) {
        await repo.finishRun(db, run.id, { status: 'failed', results: [], error: 'the workflow, its event or its contact no longer exists', finishedAt: now() });
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

  return { fanOut, schedule, runDue };
}

export type WorkflowRunner = ReturnType<typeof createWorkflowRunner>;
