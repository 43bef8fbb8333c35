import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../platform/http/collection.js';
import { type FeedPageDto, decodeFeedCursor, encodeFeedCursor, parseTypes, toFeedEvent } from './feed.schema.js';
import { readFeed } from './feed.repository.js';
import { assertRetained } from './retention.js';

export interface FeedQueryInput {
  after?: string | null | undefined;
  /** a comma list (REST) or a list (GraphQL) of types, `<entity>.*` patterns or `*` */
  types?: string | readonly string[] | null | undefined;
  entityType?: string | null | undefined;
  entityId?: string | null | undefined;
  limit?: number | null | undefined;
}

/**
 * The change feed (API.md §5 Integration): every committed change in commit order, for admin and
 * manager (resource `events`). Both see every record, so no scope applies to what it lists.
 */
export function createFeedService({ db, retentionDays }: { db: Executor; retentionDays?: number }) {
  return {
    async list(ctx: RequestContext, q: FeedQueryInput): Promise<FeedPageDto> {
      assertCan(ctx.actor, 'events', 'read');
      const limit = q.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw validationFailed([{ path: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
      }
      const after = decodeFeedCursor(q.after);
      // a cursor from before what retention kept would skip the removed events silently
      if (q.after) await assertRetained(db, after, retentionDays);
      const types = parseTypes(q.types);
      const { rows, top } = await readFeed(db, after, limit, {
        types, entityType: q.entityType ?? undefined, entityId: q.entityId ?? undefined,
      });
      const last = rows.at(-1)?.seq ?? after;
      // A full page resumes after its last event. A short one has shown every match up to `top`, so it
      // resumes from there: a filtered reader does not rescan what it skipped, and never goes back.
      const next = rows.length === limit ? last : Math.max(last, top, after);
      return { data: rows.map(toFeedEvent), nextCursor: encodeFeedCursor(next) };
    },
  };
}

export type FeedService = ReturnType<typeof createFeedService>;
