import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from './client.js';

/** Raw SQL with typed rows; both drivers (pg and PGlite) answer with `rows`. */
export async function queryRows<T>(db: Executor, query: SQL): Promise<{ rows: T[]; affected: number }> {
  const r = (await db.execute(query)) as unknown as { rows: T[]; rowCount?: number | null; affectedRows?: number };
  return { rows: r.rows, affected: r.rowCount ?? r.affectedRows ?? 0 };
}

/**
 * A list of values as a typed SQL array. Sent as one JSON parameter rather than a driver array,
 * because PGlite's wire encoding of array parameters fails where node-postgres's works; JSON works
 * the same on both.
 */
export function sqlArray(values: readonly (string | number)[], type: string): SQL {
  return sql`ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))::${sql.raw(type)}[]`;
}
