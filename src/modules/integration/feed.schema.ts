import { z } from 'zod';
import { Timestamp, Uuid } from '../../platform/http/common.schema.js';
import { MAX_LIMIT } from '../../platform/http/collection.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { type FieldError, validationFailed } from '../../platform/errors/app-error.js';
import type { EventRow } from '../../platform/events/feed.js';

// The change feed's contract (API.md §5 Integration), and the event type patterns that the feed's
// `types=` and a webhook's `events[]` share.

const NAME = '[a-z][a-z0-9_]{0,62}';
/** `contact.created`, `deal.stage_changed`, `contact.*`, or `*` for every event */
export const EVENT_PATTERN = new RegExp(`^(\\*|${NAME}\\.(\\*|${NAME}))$`);
export const MAX_PATTERNS = 50;

export const EventPattern = z
  .string()
  .regex(EVENT_PATTERN, 'must be an event type (contact.created), <entity>.* or *');

export interface TypeFilter {
  /** exact types */
  exact: string[];
  /** entity names of `<entity>.*` patterns */
  entities: string[];
  /** `*` was given: every type */
  all: boolean;
}

export function toTypeFilter(patterns: readonly string[]): TypeFilter {
  const f: TypeFilter = { exact: [], entities: [], all: false };
  for (const p of patterns) {
    if (p === '*') f.all = true;
    else if (p.endsWith('.*')) f.entities.push(p.slice(0, -2));
    else f.exact.push(p);
  }
  return f;
}

export function matchesType(f: TypeFilter, type: string): boolean {
  return f.all || f.exact.includes(type) || f.entities.includes(type.slice(0, type.indexOf('.')));
}

/** `types=contact.*,deal.stage_changed` (REST) or a list (GraphQL) → a filter; a malformed pattern is a 400 at `path`. */
export function parseTypes(input: string | readonly string[] | undefined | null, path = 'types'): TypeFilter | undefined {
  if (input === undefined || input === null) return undefined;
  const list = (typeof input === 'string' ? input.split(',') : [...input]).map((s) => s.trim()).filter(Boolean);
  const errors: FieldError[] = list
    .filter((p) => !EVENT_PATTERN.test(p))
    .map((p) => ({ path, message: `"${p.slice(0, 80)}" is not an event type, <entity>.* or *` }));
  if (list.length === 0) errors.push({ path, message: 'is empty' });
  if (list.length > MAX_PATTERNS) errors.push({ path, message: `takes at most ${MAX_PATTERNS} patterns` });
  if (errors.length) throw validationFailed(errors, 'The event type patterns are not valid');
  return toTypeFilter(list);
}

// A feed cursor is a position (seq) made opaque like every other cursor of the API.
const CURSOR_KIND = 'events';

export const encodeFeedCursor = (seq: number) => encodeCursor({ s: CURSOR_KIND, v: [String(seq)] });

export function decodeFeedCursor(text: string | undefined | null, path = 'after'): number {
  if (text === undefined || text === null || text === '') return 0;
  const c = decodeCursor(text);
  const v = c?.s === CURSOR_KIND && c.v.length === 1 ? c.v[0] : undefined;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) throw validationFailed([{ path, message: 'is not a cursor of the change feed' }]);
  return Number(v);
}

export const FeedQuery = z
  .object({
    after: z.string().max(200).optional().describe('The nextCursor of the previous page; absent: from the first event. A cursor from before the events kept by EVENT_RETENTION_DAYS is a 400 on after'),
    types: z.string().max(4000).optional().describe('Comma list of event types, <entity>.* patterns, or *: contact.*,deal.stage_changed'),
    entityType: z.string().regex(new RegExp(`^${NAME}$`), 'must be an entity name such as contact').optional().describe('Only events about this kind of record'),
    entityId: Uuid.optional().describe('Only events about this record'),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().describe(`Page size, 1–${MAX_LIMIT}, default 50`),
  })
  .strict();

export const FeedEvent = z
  .object({
    id: Uuid.describe('The event id: the same in the feed and in every webhook delivery of it (X-CRM-Event-Id)'),
    type: z.string().describe('<entity>.created|updated|deleted|restored, or a domain event such as deal.stage_changed'),
    entityType: z.string(),
    entityId: Uuid,
    occurredAt: Timestamp,
    actor: z.object({ type: z.string().describe('user, api_key or system'), id: z.string().nullable() }),
    data: z.object({ before: z.unknown().describe('the record before the change; null on create'), after: z.unknown().describe('the record after it') }),
  })
  .meta({ id: 'FeedEvent', description: 'One committed change; also the body of a webhook delivery' });

export type FeedEventDto = z.infer<typeof FeedEvent>;

export const FeedPage = z
  .object({
    data: z.array(FeedEvent),
    nextCursor: z
      .string()
      .describe('Always present: poll with it as `after`. A page shorter than `limit` means nothing more has committed yet'),
  })
  .meta({ id: 'FeedPage' });

export interface FeedPageDto {
  data: FeedEventDto[];
  nextCursor: string;
}

export function toFeedEvent(r: EventRow): FeedEventDto {
  const data = r.data ?? { before: null, after: null };
  return {
    id: r.id,
    type: r.type,
    entityType: r.entityType,
    entityId: r.entityId,
    occurredAt: r.occurredAt.toISOString(),
    actor: { type: r.actorType, id: r.actorId },
    data: { before: data.before ?? null, after: data.after ?? null },
  };
}
