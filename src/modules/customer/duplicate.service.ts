import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, scopeCondition } from '../../platform/auth/permissions.js';
import { type Page, compileList, toPage } from '../../platform/http/collection.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { issuesToFieldErrors } from '../../platform/errors/field-errors.js';
import {
  type CompanyDuplicateDto, type ContactDuplicateDto, DuplicateQuery, type DuplicateQueryInput, toCompanyDuplicate, toContactDuplicate,
} from './duplicate.schema.js';
import * as repo from './duplicate.repository.js';
import { refreshContactsQueuedBefore } from './duplicate-queue.js';

export interface DuplicateServiceDeps {
  db: Executor;
}

/** Reads the duplicate candidates the writes keep current (duplicate.repository.ts, duplicate-queue.ts). */
export function createDuplicateService({ db }: DuplicateServiceDeps) {
  async function page<T>(ctx: RequestContext, entity: repo.DuplicateEntity, raw: DuplicateQueryInput, map: (r: repo.PairRow) => T): Promise<Page<T>> {
    const scope = assertCan(ctx.actor, 'customers', 'read');
    // REST has parsed it already; GraphQL arguments are checked here by the same schema
    const parsed = DuplicateQuery.safeParse(raw);
    if (!parsed.success) throw validationFailed(issuesToFieldErrors(parsed.error.issues));
    const q = parsed.data;
    const list = compileList(repo.pairCollection, {
      limit: q.limit,
      cursor: q.cursor,
      filter: q.minScore !== undefined ? { score: { gte: String(q.minScore) } } : undefined,
    });
    // a pair shows only when the caller may read both of its records
    // contact lookups run after their writes: the ones queued so far first, so no committed write is missing
    if (entity === 'contact') await refreshContactsQueuedBefore(db);
    const rows = await repo.listPairs(db, entity, list, (cols) => scopeCondition(ctx.actor, scope, cols));
    return toPage(list, rows, (r) => ({ score: r.score, aId: r.aId, id: r.bId }), map);
  }

  return {
    contacts: (ctx: RequestContext, q: DuplicateQueryInput): Promise<Page<ContactDuplicateDto>> => page(ctx, 'contact', q, toContactDuplicate),
    companies: (ctx: RequestContext, q: DuplicateQueryInput): Promise<Page<CompanyDuplicateDto>> => page(ctx, 'company', q, toCompanyDuplicate),
  };
}

export type DuplicateService = ReturnType<typeof createDuplicateService>;
