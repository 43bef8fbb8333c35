import { type SQL, and, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type FieldError, isAppError, validationFailed } from '../../platform/errors/app-error.js';
import { issuesToFieldErrors } from '../../platform/errors/field-errors.js';
import { type CollectionSpec, type FieldSpec, type FilterInput, compileFilter } from '../../platform/http/collection.js';
import { activities } from '../customer/activity.table.js';
import { contacts } from '../customer/contact.table.js';
import { feedback } from '../customer/feedback.table.js';
import { orders } from '../customer/order.table.js';
import { campaignEvents, campaignRecipients } from './campaign.table.js';

// Segment rules: the filter grammar of API.md §2 as JSON, in groups. A node matches a contact when
// every condition of its `filter` holds, every node of `and` matches, and (when `or` is given) at
// least one node of `or` matches. Fields are the contact's own (custom.<key> included) and
// behaviour computed per contact: orders, activity, NPS and campaign engagement (docs/marketing.md).

const Scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);
const Operand = z.union([Scalar, z.array(Scalar).max(100)]);
const Window = z.strictObject({
  lastDays: z.number().int().min(1).max(3650).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
}).describe('bounds the orders and campaign-engagement fields of this node: the last N days, or from/to');

export interface SegmentRules {
  filter?: Record<string, Record<string, z.infer<typeof Operand>>> | undefined;
  window?: z.infer<typeof Window> | undefined;
  and?: SegmentRules[] | undefined;
  or?: SegmentRules[] | undefined;
}

// Nested groups are typed as plain objects here and checked node by node in compileRules: a
// recursive zod schema has no JSON Schema form that OpenAPI tools accept.
const Group = z.array(z.record(z.string(), z.unknown()).describe('rules of this same shape')).min(1).max(20);

export const SegmentRulesSchema = z
  .strictObject({
    filter: z.record(z.string().min(1).max(100), z.record(z.string(), Operand)).optional(),
    window: Window.optional(),
    and: Group.optional().describe('every one of these must match'),
    or: Group.optional().describe('at least one of these must match'),
  })
  .meta({ id: 'SegmentRules', description: '{filter: {"<field>": {"<op>": value}}, window?, and?: [rules], or?: [rules]}' });

export const MAX_DEPTH = 4;
const MAX_CONDITIONS = 50;

const COUNTED_ORDER = sql`o.deleted_at IS NULL AND o.status IN ('paid', 'fulfilled')`;
const CURRENCY = /^[A-Z]{3}$/;

function windowSql(column: SQL, w: SegmentRules['window']): SQL {
  if (!w) return sql`TRUE`;
  const parts: SQL[] = [];
  if (w.lastDays !== undefined) parts.push(sql`${column} >= now() - make_interval(days => ${w.lastDays}::int)`);
  if (w.from) parts.push(sql`${column} >= ${new Date(w.from).toISOString()}::timestamptz`);
  if (w.to) parts.push(sql`${column} < ${new Date(w.to).toISOString()}::timestamptz`);
  return parts.length ? (and(...parts) as SQL) : sql`TRUE`;
}

const engaged = (type: string, w: SegmentRules['window']): FieldSpec => ({
  expr: sql`(SELECT count(DISTINCT e.campaign_id) FROM ${campaignEvents} e
    WHERE e.contact_id = ${contacts.id} AND e.type = ${type} AND ${windowSql(sql`e.occurred_at`, w)})`,
  type: 'integer', nullable: false,
});

/** The behaviour fields, computed per contact by correlated subqueries over indexed contact_id columns. */
function behaviourField(name: string, w: SegmentRules['window']): FieldSpec | undefined {
  switch (name) {
    case 'orders.count':
      return {
        expr: sql`(SELECT count(*) FROM ${orders} o WHERE o.contact_id = ${contacts.id} AND ${COUNTED_ORDER} AND ${windowSql(sql`o.placed_at`, w)})`,
        type: 'integer', nullable: false,
      };
    case 'orders.lastPlacedAt':
      return { expr: sql`(SELECT max(o.placed_at) FROM ${orders} o WHERE o.contact_id = ${contacts.id} AND ${COUNTED_ORDER})`, type: 'datetime', nullable: true };
    case 'activities.lastAt':
      return {
        expr: sql`(SELECT max(a.occurred_at) FROM ${activities} a WHERE a.contact_id = ${contacts.id} AND a.deleted_at IS NULL)`,
        type: 'datetime', nullable: true,
      };
    case 'nps.last':
      return {
        expr: sql`(SELECT f.score FROM ${feedback} f WHERE f.contact_id = ${contacts.id} AND f.type = 'nps' ORDER BY f.created_at DESC, f.id DESC LIMIT 1)`,
        type: 'integer', nullable: true,
      };
    case 'campaigns.received':
      return {
        expr: sql`(SELECT count(*) FROM ${campaignRecipients} r WHERE r.contact_id = ${contacts.id} AND r.status = 'sent' AND ${windowSql(sql`r.sent_at`, w)})`,
        type: 'integer', nullable: false,
      };
    case 'campaigns.opened':
      return engaged('opened', w);
    case 'campaigns.clicked':
      return engaged('clicked', w);
    case 'campaigns.converted':
      return engaged('converted', w);
  }
  const currency = /^orders\.total\.(.+)$/.exec(name)?.[1];
  if (currency !== undefined && CURRENCY.test(currency)) {
    return {
      expr: sql`(SELECT coalesce(sum(o.total), 0) FROM ${orders} o
        WHERE o.contact_id = ${contacts.id} AND o.currency = ${currency} AND ${COUNTED_ORDER} AND ${windowSql(sql`o.placed_at`, w)})`,
      type: 'decimal', nullable: false,
    };
  }
  return undefined;
}

export const BEHAVIOUR_FIELDS = [
  'orders.count', 'orders.total.<CURRENCY>', 'orders.lastPlacedAt', 'activities.lastAt', 'nps.last',
  'campaigns.received', 'campaigns.opened', 'campaigns.clicked', 'campaigns.converted',
] as const;

/** JSON values become the grammar's strings: numbers and booleans as written, lists as lists. */
function asFilterInput(filter: NonNullable<SegmentRules['filter']>): FilterInput {
  const out: FilterInput = {};
  for (const [field, ops] of Object.entries(filter)) {
    out[field] = Object.fromEntries(Object.entries(ops).map(([op, v]) => [op, Array.isArray(v) ? v.map(String) : String(v)]));
  }
  return out;
}

/**
 * Compiles rules to one SQL condition over `contacts`, or throws validation_failed naming every bad
 * part by its path (`rules.or.1.filter.orders.count.gte`). `contactSpec` is the contact collection
 * with this moment's custom fields.
 */
export function compileRules(rules: SegmentRules, contactSpec: CollectionSpec, path = 'rules'): SQL {
  const errors: FieldError[] = [];
  let conditions = 0;
  const walk = (raw: unknown, at: string, depth: number): SQL | undefined => {
    if (depth > MAX_DEPTH) {
      errors.push({ path: at, message: `groups nest at most ${MAX_DEPTH} levels deep` });
      return undefined;
    }
    const parsed = SegmentRulesSchema.safeParse(raw);
    if (!parsed.success) {
      errors.push(...issuesToFieldErrors(parsed.error.issues, at));
      return undefined;
    }
    const node = parsed.data as SegmentRules;
    const parts: (SQL | undefined)[] = [];
    if (node.window?.from && node.window.to && node.window.from >= node.window.to) {
      errors.push({ path: `${at}.window`, message: 'from must be before to' });
    }
    if (node.filter) {
      conditions += Object.values(node.filter).reduce((n, ops) => n + Object.keys(ops).length, 0);
      const spec: CollectionSpec = {
        ...contactSpec,
        dynamicField: (name) => behaviourField(name, node.window) ?? contactSpec.dynamicField?.(name),
      };
      try {
        parts.push(compileFilter(spec, asFilterInput(node.filter)));
      } catch (e) {
        if (isAppError(e) && e.errors) errors.push(...e.errors.map((x) => ({ ...x, path: `${at}.${x.path}` })));
        else throw e;
      }
    }
    node.and?.forEach((n, i) => parts.push(walk(n, `${at}.and.${i}`, depth + 1)));
    if (node.or) parts.push(or(...node.or.map((n, i) => walk(n, `${at}.or.${i}`, depth + 1))));
    const defined = parts.filter((p): p is SQL => p !== undefined);
    return defined.length ? and(...defined) : undefined;
  };
  const where = walk(rules, path, 1);
  if (conditions > MAX_CONDITIONS) errors.push({ path, message: `may hold at most ${MAX_CONDITIONS} conditions` });
  if (!errors.length && !where) errors.push({ path, message: 'needs at least one condition (filter, and or or)' });
  if (errors.length) throw validationFailed(errors, 'The segment rules are not valid');
  return where as SQL;
}
