import { SQL, getTableColumns, is, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

// Many rows as ONE parameter: the rows as a JSON array, unpacked by jsonb_to_recordset inside an
// INSERT … SELECT. drizzle's multi-row VALUES makes a parameter (and a wrapper object, a type check
// and a driver mapping) per cell: 1000 contacts of 30 columns are 30 000 of each, which cost more CPU
// than everything else a 1000-record batch does (CPU profile in docs/performance.md). The row JSON is
// built once by JSON.stringify, and PostgreSQL parses it in one pass.

/** Below this many rows drizzle's own VALUES list is as cheap and keeps the query readable in logs. */
export const BULK_FROM_ROWS = 20;

interface Plan {
  columns: { key: string; name: string; defaultFn: (() => unknown) | undefined; jsDefault: unknown }[];
  names: SQL;
  shape: SQL;
  picks: SQL;
}
/**
 * Per table, what rowsAsSelect needs of its columns, worked out once: drizzle's column objects are
 * otherwise asked for their defaults and SQL types for every cell (in a CPU profile of 1000-contact
 * batches, rowsAsSelect's own time was the largest of the handler's, ~30 ms a batch).
 */
const plans = new WeakMap<PgTable, Plan>();

function planOf(table: PgTable): Plan {
  const known = plans.get(table);
  if (known) return known;
  // generated and identity-always columns are left out, as drizzle's own insert leaves them out
  const entries = Object.entries(getTableColumns(table) as Record<string, PgColumn>)
    .filter(([, c]) => !(c as unknown as { shouldDisableInsert(): boolean }).shouldDisableInsert());
  const plan: Plan = {
    columns: entries.map(([key, col]) => ({
      key, name: col.name, defaultFn: col.defaultFn as (() => unknown) | undefined,
      jsDefault: col.default !== undefined && !is(col.default, SQL) ? col.default : undefined,
    })),
    names: sql.join(entries.map(([, col]) => sql.identifier(col.name)), sql`, `),
    shape: sql.join(entries.map(([, col]) => sql`${sql.identifier(col.name)} ${sql.raw(col.getSQLType())}`), sql`, `),
    picks: sql.join(entries.map(([, col]) => {
      const v = sql`${sql.identifier('v')}.${sql.identifier(col.name)}`;
      // an SQL default (now(), '{}'::text[]) applies where the row gave no value, as DEFAULT would
      return is(col.default, SQL) ? sql`coalesce(${v}, ${col.default})` : v;
    }), sql`, `),
  };
  plans.set(table, plan);
  return plan;
}

/**
 * The source of `insert(table).select(…)`: every insertable column in table order, each row's value or,
 * where the row has none, the column's default (its JS default or defaultFn in the JSON, its SQL
 * default such as now() or clock_timestamp() evaluated per row by PostgreSQL) — what VALUES with
 * DEFAULT would write. Values are passed as JSON: a Date becomes its ISO string, an array a JSON array
 * (cast to the column's array type), an object stays JSON for a jsonb column.
 */
export function rowsAsSelect<T extends PgTable>(table: T, rows: readonly Record<string, unknown>[]): SQL {
  const { columns, shape, picks } = planOf(table);
  const json = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const col of columns) {
      let value = row[col.key];
      if (value === undefined) value = col.defaultFn ? col.defaultFn() : col.jsDefault;
      if (typeof value === 'object' && value !== null && is(value, SQL)) throw new Error(`rowsAsSelect: ${col.name} is an SQL expression; insert such rows with values()`);
      // a column left out reads as NULL, as null would: fewer bytes to build, send and parse (a contact has ~12 nulls)
      if (value !== null && value !== undefined) out[col.name] = value;
    }
    return out;
  });
  // a function scan yields the array in order, so per-row defaults (clock_timestamp()) follow the rows' order
  return sql`SELECT ${picks} FROM jsonb_to_recordset(${JSON.stringify(json)}::jsonb) AS v(${shape})`;
}

/**
 * `INSERT INTO table (every insertable column) SELECT …` of rowsAsSelect, as raw SQL to extend (ON
 * CONFLICT, RETURNING) and to nest in a data-modifying CTE, which drizzle's query builder cannot.
 */
export function insertRowsSql<T extends PgTable>(table: T, rows: readonly Record<string, unknown>[]): SQL {
  return sql`INSERT INTO ${table} (${planOf(table).names}) ${rowsAsSelect(table, rows)}`;
}
