import type { Executor } from '../../platform/db/client.js';
import type { Actor } from '../../platform/auth/actor.js';
import { type Resource, assertCan, can, inScope } from '../../platform/auth/permissions.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import type { EventRow } from '../../platform/events/feed.js';
import { type FeedEventDto, type TypeFilter, encodeFeedCursor, matchesType, parseTypes, toFeedEvent } from './feed.schema.js';
import { readFeed, topSeq } from './feed.repository.js';

// Live changes (GraphQL `recordChanged`): ONE poller per server process reads the change feed after
// the last position it saw, with the very query of GET /v1/events, and publishes each event to
// mercurius' pubsub; every subscriber filters what it receives by its type patterns and by what its
// role may read. Each process polls the database itself, so several processes fan out without Redis
// or any broker between them. With no subscriber the poller does not touch the database.

export const LIVE_TOPIC = 'integration.recordChanged';
const PAGE = 1000;
/** pages per pass: 5000 events, after which the worker runner goes again at once */
const PAGES = 5;

/** A feed event with its position: `seq` as a string (64-bit), `cursor` for events(after:) */
export interface LiveEventDto extends FeedEventDto {
  seq: string;
  cursor: string;
}

export interface RecordChangedArgs {
  types?: readonly string[] | null;
  entityType?: string | null;
  entityId?: string | null;
}

/** mercurius' pubsub as the poller publishes to it (app.graphql.pubsub). */
export interface LivePubSub {
  publish(event: { topic: string; payload: unknown }, callback?: (err?: unknown) => void): void;
}

/** One subscription's queue (mercurius' SubscriptionContext as resolvers get it in ctx.pubsub). */
export interface SubscriberQueue {
  subscribe(topic: string): Promise<AsyncIterable<unknown>>;
}

// Which role-table resource guards the events of each entity (API.md §4). Users, teams and API keys
// are admin's only; an entity not listed here is shown to admin and manager only, so a new module's
// events are not leaked before someone decides who may see them.
const RESOURCE_OF: Record<string, Resource> = {
  contact: 'customers', company: 'customers', activity: 'customers',
  deal: 'deals', lead: 'leads', ticket: 'tickets', ticket_comment: 'tickets', order: 'orders',
  loyalty_transaction: 'loyalty', feedback: 'feedback', segment: 'segments', campaign: 'campaigns',
  webhook: 'config', pipeline: 'config', scoring_rule: 'config', custom_field: 'config', sla_policy: 'config', workflow: 'config',
};
const ADMIN_ONLY = new Set(['user', 'team', 'api_key']);

interface Owned { ownerId: string | null; teamId: string | null }
const owned = (r: unknown): r is Owned =>
  typeof r === 'object' && r !== null && 'ownerId' in r && 'teamId' in r;

/**
 * May `actor` see this change? By the role table of the entity's resource, and for a record-scoped
 * role (sales on deals and leads) only when the record was in its scope before or after the change:
 * a deal handed to another team is seen leaving, and not after that.
 */
export function visibleTo(actor: Actor, e: Pick<FeedEventDto, 'entityType' | 'data'>): boolean {
  if (ADMIN_ONLY.has(e.entityType)) return actor.role === 'admin';
  const resource = RESOURCE_OF[e.entityType];
  if (!resource) return actor.role === 'admin' || actor.role === 'manager';
  if (!can(actor, resource, 'read')) return false;
  const scope = assertCan(actor, resource, 'read');
  if (scope === 'all') return true;
  return [e.data.before, e.data.after].some((r) => owned(r) && inScope(actor, scope, r));
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface LiveFilter { types: TypeFilter | undefined; entityType: string | undefined; entityId: string | undefined }

/** The arguments checked like the feed's query: a malformed one is a 400 naming it. */
export function parseLiveFilter(a: RecordChangedArgs): LiveFilter {
  const types = parseTypes(a.types);
  const errors = [];
  if (a.entityType != null && !NAME.test(a.entityType)) errors.push({ path: 'entityType', message: 'must be an entity name such as contact' });
  if (a.entityId != null && !UUID.test(a.entityId)) errors.push({ path: 'entityId', message: 'must be a UUID' });
  if (errors.length) throw validationFailed(errors);
  return { types, entityType: a.entityType ?? undefined, entityId: a.entityId?.toLowerCase() ?? undefined };
}

export function matchesLive(f: LiveFilter, e: LiveEventDto): boolean {
  return (!f.types || matchesType(f.types, e.type))
    && (f.entityType === undefined || e.entityType === f.entityType)
    && (f.entityId === undefined || e.entityId === f.entityId);
}

export function toLiveEvent(r: EventRow): LiveEventDto {
  const seq = r.seq as number;
  return { ...toFeedEvent(r), seq: String(seq), cursor: encodeFeedCursor(seq) };
}

export function createLiveChanges({ db }: { db: Executor }) {
  let pubsub: LivePubSub | undefined;
  let subscribers = 0;
  /** the last position published; undefined while nobody listens */
  let position: number | undefined;
  // bumped whenever the last subscriber leaves or the first one comes: a pass begun before does not
  // write back a stale position
  let generation = 0;
  let polling = false;

  async function join(p: LivePubSub): Promise<void> {
    pubsub ??= p;
    if (subscribers++ > 0) return;
    const g = ++generation;
    const top = await topSeq(db);
    if (g === generation) position = top;
  }

  function leave(): void {
    if (--subscribers > 0) return;
    generation++;
    position = undefined;
  }

  async function pass(x: Executor): Promise<number> {
    if (!pubsub || subscribers === 0 || position === undefined) return 0;
    const g = generation;
    let after = position;
    let published = 0;
    for (let page = 0; page < PAGES; page++) {
      const { rows, top } = await readFeed(x, after, PAGE, {});
      if (g !== generation) return published;
      for (const r of rows) pubsub.publish({ topic: LIVE_TOPIC, payload: toLiveEvent(r) });
      published += rows.length;
      const last = rows.at(-1)?.seq ?? after;
      // as GET /v1/events: a short page has shown everything up to `top`
      after = rows.length === PAGE ? last : Math.max(last, top, after);
      position = after;
      if (rows.length < PAGE) break;
    }
    return published;
  }

  return {
    /** One pass of the poller (the module's worker): publishes what committed since the last pass. */
    async poll(x: Executor = db): Promise<number> {
      // the worker runner may start a pass while the last one still runs: one at a time, or twice published
      if (polling) return 0;
      polling = true;
      try {
        return await pass(x);
      } finally {
        polling = false;
      }
    },

    /**
     * A subscriber's stream of the events `actor` may see that match `a`. Arguments are checked at
     * once; listening begins when the stream is first read, and ends (leave) when it is closed.
     */
    subscribe(actor: Actor, a: RecordChangedArgs, queue: SubscriberQueue, appPubSub: LivePubSub): AsyncGenerator<{ recordChanged: LiveEventDto }> {
      const filter = parseLiveFilter(a);
      return (async function* stream() {
        // the queue listens before the position is taken, so nothing committed after it is missed
        const events = await queue.subscribe(LIVE_TOPIC);
        try {
          await join(appPubSub);
          for await (const e of events as AsyncIterable<LiveEventDto>) {
            if (matchesLive(filter, e) && visibleTo(actor, e)) yield { recordChanged: e };
          }
        } finally {
          leave();
        }
      })();
    },

    /** how many subscriptions this process serves */
    get subscribers(): number {
      return subscribers;
    },
  };
}

export type LiveChanges = ReturnType<typeof createLiveChanges>;
