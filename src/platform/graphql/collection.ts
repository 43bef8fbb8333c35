import type { FilterInput } from '../http/collection.js';
import type { Page } from '../http/collection.js';
import type { ParsedListQuery } from '../http/list-query.js';

/** GraphQL filter input `{name: {eq: "x"}, employees: {in: [1, 2]}}` → the grammar's FilterInput. */
export function filterFromGraphql(input: Record<string, Record<string, unknown> | null> | null | undefined): FilterInput | undefined {
  if (!input) return undefined;
  const out: FilterInput = {};
  for (const [field, ops] of Object.entries(input)) {
    if (!ops) continue;
    // custom fields have no static input type: `custom: {tier: {eq: "gold"}}` (JSON) → `custom.tier`
    if (field === 'custom' && typeof ops === 'object' && !Array.isArray(ops)) {
      for (const [key, keyOps] of Object.entries(ops)) {
        Object.assign(out, filterFromGraphql({ [`custom.${key}`]: keyOps as Record<string, unknown> | null }));
      }
      continue;
    }
    const converted: Record<string, string | string[]> = {};
    for (const [op, v] of Object.entries(ops)) {
      if (v === null || v === undefined) continue;
      converted[op] = Array.isArray(v) ? v.map(String) : String(v);
    }
    out[field] = converted;
  }
  return out;
}

export interface GraphqlListArgs {
  filter?: Record<string, Record<string, unknown> | null> | null;
  sort?: { field: string; direction?: 'ASC' | 'DESC' | null }[] | null;
  first?: number | null;
  after?: string | null;
  q?: string | null;
  includeDeleted?: boolean | null;
}

/** Connection arguments → the same parameters REST's query string becomes. */
export function listParamsFromGraphql(a: GraphqlListArgs): ParsedListQuery {
  return {
    limit: a.first ?? undefined,
    cursor: a.after ?? undefined,
    sort: a.sort?.length ? a.sort.map((s) => (s.direction === 'DESC' ? `-${s.field}` : s.field)).join(',') : undefined,
    filter: filterFromGraphql(a.filter),
    q: a.q ?? undefined,
    includeDeleted: a.includeDeleted ?? false,
  };
}

export function toConnection<T>(page: Page<T>) {
  return {
    edges: page.items.map((node, i) => ({ node, cursor: page.cursors[i] })),
    pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.cursors.at(-1) ?? null },
  };
}
