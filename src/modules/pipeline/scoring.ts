import { type SQL, and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows, sqlArray } from '../../platform/db/execute.js';
import type { FieldError } from '../../platform/errors/app-error.js';
import { type CollectionSpec, type FilterInput, compileFilter } from '../../platform/http/collection.js';
import { type CustomFieldLookup, type ValidateCustom, activityTable as a } from '../customer/index.js';
import { leadCollection, leadCustomColumn } from './lead.repository.js';
import { type ScoringRuleRow, leads, scoringRules } from './lead.table.js';

// Lead scores are computed by the database, one UPDATE for any set of leads: field rules become
// `CASE WHEN <compiled filter> THEN points`, activity rules one correlated count over the lead's
// live activities. Scores are derived data: a rescore writes no audit row, emits no event and leaves
// version and updatedAt alone — otherwise every logged email would bump the lead's version (breaking
// clients' If-Match) and every hourly rescore would flood the change feed with non-changes. What the
// audit and feed do record are the causes: the lead, activity and rule writes.
// Converted leads keep the score they had when converted; deleted leads are not rescored until restored.

export interface ScoringDeps {
  customFields: { validateCustom: ValidateCustom; filterFields: CustomFieldLookup };
}

/** A rule filter as stored (`{"custom.size": {"gt": 50}}`) → the grammar's string values; errors for what cannot be. */
export function toFilterInput(filter: Record<string, unknown>): { filter: FilterInput; errors: FieldError[] } {
  const out: FilterInput = {};
  const errors: FieldError[] = [];
  const scalar = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  for (const [field, ops] of Object.entries(filter)) {
    if (!ops || typeof ops !== 'object' || Array.isArray(ops)) {
      errors.push({ path: `filter.${field}`, message: 'needs an operator: {"<op>": value}' });
      continue;
    }
    const converted: Record<string, string | string[]> = {};
    for (const [op, v] of Object.entries(ops as Record<string, unknown>)) {
      const values = Array.isArray(v) ? v.map(scalar) : [scalar(v)];
      if (values.some((x) => x === undefined)) errors.push({ path: `filter.${field}.${op}`, message: 'must be a string, number, boolean or an array of them' });
      else converted[op] = Array.isArray(v) ? (values as string[]) : (values[0] as string);
    }
    out[field] = converted;
  }
  return { filter: out, errors };
}

/** A field rule's filter may not read the score itself: a score depending on itself has no fixed point. */
const { score: _score, ...ruleFields } = leadCollection.fields;

export function createScoring(deps: ScoringDeps) {
  /**
   * The lead fields rule filters may use, `custom.<key>` included. Reading the custom-field
   * definitions through `tx` first fills their cache, so the lookup below needs no second connection
   * (PGlite has only one, and the transaction holds it).
   */
  async function ruleCollection(tx?: Executor): Promise<CollectionSpec> {
    if (tx) await deps.customFields.validateCustom('lead', {}, 'patch', tx);
    return { ...leadCollection, fields: ruleFields, dynamicField: await deps.customFields.filterFields('lead', leadCustomColumn) };
  }

  function activityTerm(r: ScoringRuleRow): SQL {
    const cond = [sql`${a.occurredAt} > now() - ${sql.raw(String(Number(r.withinDays)))} * interval '1 day'`];
    if (r.activityType) cond.push(sql`${a.type} = ${r.activityType}::text`);
    if (r.activityDirection) cond.push(sql`${a.direction} = ${r.activityDirection}::text`);
    return sql`${sql.raw(String(r.points))} * count(*) FILTER (WHERE ${and(...cond)})`;
  }

  /** The score of the lead row in scope (`leads`), as one SQL expression over the given rules. */
  function scoreExpression(rules: ScoringRuleRow[], spec: CollectionSpec): SQL {
    const terms: SQL[] = [sql`0::bigint`];
    for (const r of rules.filter((x) => x.kind === 'field')) {
      const parsed = toFilterInput(r.filter ?? {});
      let cond: SQL | undefined;
      try {
        cond = parsed.errors.length ? undefined : compileFilter(spec, parsed.filter);
      } catch {
        // Checked when the rule was saved; a custom field deleted since makes it match nothing
        // rather than fail every lead write.
        continue;
      }
      if (cond) terms.push(sql`CASE WHEN ${cond} THEN ${sql.raw(String(r.points))} ELSE 0 END`);
    }
    const activity = rules.filter((x) => x.kind === 'activity' && x.withinDays);
    if (activity.length) {
      // One pass over the lead's recent activities (activities_lead_idx), every rule a FILTER of it.
      // Planned activities have not occurred yet; the few minutes of slack keep one just logged
      // counting despite millisecond rounding of occurred_at and clocks of app and database apart.
      const widest = Math.max(...activity.map((r) => Number(r.withinDays)));
      terms.push(sql`(SELECT ${sql.join(activity.map(activityTerm), sql` + `)} FROM ${a}
        WHERE ${a.leadId} = ${leads.id} AND ${a.deletedAt} IS NULL AND ${a.occurredAt} <= now() + interval '5 minutes'
          AND ${a.occurredAt} > now() - ${sql.raw(String(widest))} * interval '1 day')`);
    }
    return sql`LEAST(GREATEST(${sql.join(terms, sql` + `)}, -2147483648), 2147483647)::int`;
  }

  async function enabledRules(db: Executor): Promise<ScoringRuleRow[]> {
    return db.select().from(scoringRules)
      .where(and(eq(scoringRules.enabled, true), isNull(scoringRules.deletedAt)))
      .orderBy(asc(scoringRules.createdAt), asc(scoringRules.id));
  }

  /** Rescores the leads matching `target` in one statement; only changed rows are written. Returns how many changed. */
  async function rescoreWhere(db: Executor, target: SQL, spec: CollectionSpec): Promise<number> {
    const expr = scoreExpression(await enabledRules(db), spec);
    const { affected } = await queryRows(db, sql`
      WITH computed AS (
        SELECT ${leads.id} AS id, ${expr} AS score FROM ${leads}
        WHERE ${and(target, isNull(leads.deletedAt), ne(leads.status, 'converted'))}
      )
      UPDATE ${leads} SET score = computed.score FROM computed
      WHERE ${leads.id} = computed.id AND ${leads.score} <> computed.score`);
    return affected;
  }

  return {
    ruleCollection,

    /** These leads (a write's, an activity's), inside the caller's transaction. */
    async rescoreIn(tx: Executor, ids: readonly (string | null | undefined)[]): Promise<number> {
      const set = [...new Set(ids.filter((x): x is string => typeof x === 'string'))];
      if (set.length === 0) return 0;
      const target = set.length === 1 ? eq(leads.id, set[0] as string) : sql`${leads.id} = ANY(${sqlArray(set, 'uuid')})`;
      return rescoreWhere(tx, target, await ruleCollection(tx));
    },

    /** Every live unconverted lead, inside the caller's transaction (a rule write). */
    async rescoreAllIn(tx: Executor): Promise<number> {
      return rescoreWhere(tx, sql`TRUE`, await ruleCollection(tx));
    },

    /** The periodic worker: activity windows age out without any write, so scores must be refreshed. */
    async rescoreAll(db: Executor): Promise<number> {
      return rescoreWhere(db, sql`TRUE`, await ruleCollection());
    },
  };
}

export type Scoring = ReturnType<typeof createScoring>;
