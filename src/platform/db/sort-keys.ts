import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

// How a nullable sort key is ordered, shared by the list grammar (platform/http/collection.ts) and the
// indexes that serve it (*.table.ts): (value IS NULL, coalesce(value, stand-in)). That is Postgres's
// own NULL placement (ASC NULLS LAST, DESC NULLS FIRST) with no NULL left in the sort expressions, so
// a keyset cursor is one row comparison that a btree on the same expressions starts its range scan at.
// Both sides must spell the expressions identically, or the planner does not match the index: hence
// one definition, and literals (not parameters) for the stand-ins.

export type StandinKind = 'text' | 'number' | 'time' | 'uuid' | 'boolean' | 'array';

export const NULL_STANDIN: Record<StandinKind, string> = {
  text: "''",
  number: '0',
  time: "'-infinity'",
  uuid: "'00000000-0000-0000-0000-000000000000'",
  boolean: 'false',
  array: "'{}'",
};

/** The two sort expressions of a nullable key (a column or any SQL expression). */
export function nullableSortExprs(expr: SQL | SQL.Aliased | AnyPgColumn, kind: StandinKind): [SQL, SQL] {
  return [sql`(${expr} IS NULL)`, sql`coalesce(${expr}, ${sql.raw(NULL_STANDIN[kind])})`];
}
