import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { SCORING_RULE_KINDS, type ScoringRuleRow, scoringRules as r } from './lead.table.js';

// Queries only. Every function takes the executor first; permissions are the service's business.

type RuleInsert = typeof r.$inferInsert;

export const scoringRuleCollection: CollectionSpec = {
  id: { expr: r.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'createdAt',
  fields: {
    id: { expr: r.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: r.name, type: 'string', nullable: false, sortable: true },
    enabled: { expr: r.enabled, type: 'boolean', nullable: false },
    kind: { expr: r.kind, type: 'enum', values: SCORING_RULE_KINDS, nullable: false },
    points: { expr: r.points, type: 'integer', nullable: false, sortable: true },
    createdAt: { expr: r.createdAt, type: 'datetime', nullable: false, sortable: true },
    updatedAt: { expr: r.updatedAt, type: 'datetime', nullable: false, sortable: true },
  },
};

export const scoringRuleSortable = Object.entries(scoringRuleCollection.fields).filter(([, f]) => f.sortable).map(([k]) => k);
export const scoringRuleFilterable = Object.keys(scoringRuleCollection.fields);

export async function findRule(db: Executor, id: string): Promise<ScoringRuleRow | undefined> {
  const rows = await db.select().from(r).where(eq(r.id, id)).limit(1);
  return rows[0];
}

export async function lockRule(tx: Executor, id: string): Promise<ScoringRuleRow | undefined> {
  const rows = await tx.select().from(r).where(eq(r.id, id)).for('update');
  return rows[0];
}

export async function listRules(db: Executor, list: CompiledList, includeDeleted: boolean): Promise<ScoringRuleRow[]> {
  return db
    .select()
    .from(r)
    .where(and(list.where, includeDeleted ? undefined : isNull(r.deletedAt)))
    .orderBy(...list.orderBy)
    .limit(list.fetch);
}

export async function insertRule(tx: Executor, values: RuleInsert): Promise<ScoringRuleRow> {
  const rows = await tx.insert(r).values(values).returning();
  return rows[0] as ScoringRuleRow;
}

export async function updateRule(tx: Executor, id: string, values: Partial<RuleInsert>): Promise<ScoringRuleRow> {
  const rows = await tx
    .update(r)
    .set({ ...values, version: sql`${r.version} + 1`, updatedAt: sql`now()` })
    .where(eq(r.id, id))
    .returning();
  return rows[0] as ScoringRuleRow;
}

/** Every live rule, oldest first: configuration, a handful of rows (GraphQL's scoringRules). */
export async function liveRules(db: Executor): Promise<ScoringRuleRow[]> {
  return db.select().from(r).where(isNull(r.deletedAt)).orderBy(r.createdAt, r.id);
}
