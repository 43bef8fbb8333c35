import type { FilterInput } from '../http/collection.js';
import type { Page } from '../http/collection.js';
import type { ParsedListQuery } from '../http/list-query.js';
import { validationFailed } from '../errors/app-error.js';

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
  /** `custom` names a custom field's key (sorts by `custom.<key>`); where a schema offers it, one of the two */
  sort?: { field?: string | null; custom?: string | null; direction?: 'ASC' | 'DESC' | null }[] | null;
  first?: number | null;
  after?: string | null;
  q?: string | null;
  includeDeleted?: boolean | null;
}

/**
 * GraphQL sort inputs → REST's sort text (`-createdAt,custom.tier`), so one compiler checks both and an
 * unknown custom key fails alike (validation_failed at path `sort`).
 */
function sortFromGraphql(sort: GraphqlListArgs['sort']): string | undefined {
  if (!sort?.length) return undefined;
  const parts = sort.map((s) => {
    const hasField = s.field !== undefined && s.field !== null;
    const hasCustom = s.custom !== undefined && s.custom !== null;
    if (hasField === hasCustom) throw validationFailed([{ path: 'sort', message: 'each sort takes exactly one of field or custom' }], 'The sort is not valid');
    // no custom key has other characters; a comma would smuggle another sort key into the REST text
    if (hasCustom && !/^[A-Za-z0-9_]{1,100}$/.test(s.custom as string)) {
      throw validationFailed([{ path: 'sort', message: `"custom.${s.custom}" is not a sortable field` }], 'The sort is not valid');
    }
    const name = hasCustom ? `custom.${s.custom}` : (s.field as string);
    return s.direction === 'DESC' ? `-${name}` : name;
  });
  return parts.join(',');
}

/** Connection arguments → the same parameters REST's query string becomes. */
export function listParamsFromGraphql(a: GraphqlListArgs): ParsedListQuery {
  return {
    limit: a.first ?? undefined,
    cursor: a.after ?? undefined,
    sort: sortFromGraphql(a.sort),
    filter: filterFromGraphql(a.filter),
    q: a.q ?? undefined,
    includeDeleted: a.includeDeleted ?? false,
  };
}

export function toConnection<T>(page: Page<T>) {
  const cursors = page.cursors();
  return {
    edges: page.items.map((node, i) => ({ node, cursor: cursors[i] })),
    pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: cursors.at(-1) ?? null },
  };
}
