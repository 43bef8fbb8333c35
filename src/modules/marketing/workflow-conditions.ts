import type { FieldError } from '../../platform/errors/app-error.js';
import { FILTER_OPS, type FilterOp } from '../../platform/http/collection.js';

// Workflow conditions: the filter grammar of API.md §2 as JSON, `{filter: {"<field>": {"<op>": value}}}`,
// judged against the record the triggering event carries (its `after`, or `before` for a deletion).
// Fields are the record's JSON fields (`status`, `amount`, `custom.tier`, `tags`); every condition must hold.

export type Conditions = { filter?: Record<string, Record<string, unknown>> } | null | undefined;

const FIELD = /^[A-Za-z][A-Za-z0-9_]{0,62}(\.[A-Za-z][A-Za-z0-9_]{0,62})?$/;
const LIST_OPS: readonly FilterOp[] = ['in', 'nin'];

/** Checks the shape: field names, known operators, value kinds. Answers one error per bad part. */
export function checkConditions(c: Conditions, path = 'conditions'): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, ops] of Object.entries(c?.filter ?? {})) {
    if (!FIELD.test(field)) errors.push({ path: `${path}.filter.${field}`, message: 'is not a field name (name or custom.<key>)' });
    if (!ops || typeof ops !== 'object' || Array.isArray(ops) || Object.keys(ops).length === 0) {
      errors.push({ path: `${path}.filter.${field}`, message: 'needs an operator: {"<op>": value}' });
      continue;
    }
    for (const [op, v] of Object.entries(ops)) {
      const at = `${path}.filter.${field}.${op}`;
      if (!(FILTER_OPS as readonly string[]).includes(op)) errors.push({ path: at, message: `is not an operator; use one of ${FILTER_OPS.join(', ')}` });
      else if (LIST_OPS.includes(op as FilterOp) ? !Array.isArray(v) || v.length === 0 || v.some(notScalar) : notScalar(v)) {
        errors.push({ path: at, message: LIST_OPS.includes(op as FilterOp) ? 'must be a non-empty list of values' : 'must be a string, number or boolean' });
      } else if (op === 'isNull' && typeof v !== 'boolean' && v !== 'true' && v !== 'false') {
        errors.push({ path: at, message: 'must be true or false' });
      }
    }
  }
  return errors;
}

const notScalar = (v: unknown) => !['string', 'number', 'boolean'].includes(typeof v);

function read(record: Record<string, unknown>, field: string): unknown {
  const [head, tail] = field.split('.') as [string, string | undefined];
  const v = record[head];
  return tail === undefined ? v : v && typeof v === 'object' ? (v as Record<string, unknown>)[tail] : undefined;
}

/** Numbers compare as numbers (decimal strings too), everything else as text: ISO times order correctly as text. */
function compare(a: unknown, b: unknown): number {
  const x = Number(a);
  const y = Number(b);
  if (typeof a !== 'boolean' && a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return String(a).localeCompare(String(b));
}

function holds(v: unknown, op: FilterOp, want: unknown): boolean {
  if (op === 'isNull') return (v === null || v === undefined) === (want === true || want === 'true');
  if (Array.isArray(v)) {
    // tags and other lists: eq/contains = has the value; in = has one of them; nin = has none of them
    const has = (w: unknown) => v.some((x) => compare(x, w) === 0);
    if (op === 'eq' || op === 'contains') return has(want);
    if (op === 'in') return (want as unknown[]).some(has);
    if (op === 'nin') return !(want as unknown[]).some(has);
    if (op === 'ne') return !has(want);
    return false;
  }
  if (v === null || v === undefined) return op === 'ne' || op === 'nin';
  switch (op) {
    case 'eq': return compare(v, want) === 0;
    case 'ne': return compare(v, want) !== 0;
    case 'gt': return compare(v, want) > 0;
    case 'gte': return compare(v, want) >= 0;
    case 'lt': return compare(v, want) < 0;
    case 'lte': return compare(v, want) <= 0;
    case 'in': return (want as unknown[]).some((w) => compare(v, w) === 0);
    case 'nin': return !(want as unknown[]).some((w) => compare(v, w) === 0);
    case 'contains': return String(v).toLowerCase().includes(String(want).toLowerCase());
    case 'startsWith': return String(v).toLowerCase().startsWith(String(want).toLowerCase());
  }
}

/** Whether every condition holds for the record (no conditions: always). */
export function conditionsHold(c: Conditions, record: Record<string, unknown> | null): boolean {
  const filter = c?.filter ?? {};
  if (Object.keys(filter).length === 0) return true;
  if (!record) return false;
  return Object.entries(filter).every(([field, ops]) =>
    Object.entries(ops).every(([op, want]) => holds(read(record, field), op as FilterOp, want)));
}
