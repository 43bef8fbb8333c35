import type { SQL } from 'drizzle-orm';
import type { Executor } from './client.js';

/** Raw SQL with typed rows; both drivers (pg and PGlite) answer with `rows`. */
export async function queryRows<T>(db: Executor, query: SQL): Promise<{ rows: T[]; affected: number }> {
  const r = (await db.execute(query)) as unknown as { rows: T[]; rowCount?: number | null; affectedRows?: number };
  return { rows: r.rows, affected: r.rowCount ?? r.affectedRows ?? 0 };
}
