import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/platform/db/execute.js';
import type { TestApp } from '../../helpers/app.js';

// "A refused call changed nothing", checked over the whole database rather than the one table a
// test author thought of: every table's row count and the sum of a hash of every row. Cheap on a
// test database of a few hundred rows, and it notices an update as well as an insert or a delete.

export interface DbState {
  /** table → "rows:hash" */
  fingerprint(): Promise<Record<string, string>>;
  /** audit rows written under a request id */
  auditRows(requestId: string): Promise<number>;
}

export async function dbState(h: TestApp): Promise<DbState> {
  const db = h.db.database.db;
  const tables = (await queryRows<{ name: string }>(db, sql`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)).rows.map((r) => r.name);
  const each = tables.map((t) => `SELECT '${t}' AS name, count(*)::text || ':' || coalesce(sum(hashtext(x::text)), 0)::text AS state FROM "${t}" x`);
  const query = sql.raw(each.join(' UNION ALL '));
  return {
    async fingerprint() {
      const rows = (await queryRows<{ name: string; state: string }>(db, query)).rows;
      return Object.fromEntries(rows.map((r) => [r.name, r.state]));
    },
    async auditRows(requestId) {
      const r = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM audit_logs WHERE request_id = ${requestId}`);
      return r.rows[0]?.n ?? 0;
    },
  };
}

/** The tables whose state differs between two fingerprints. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);
}
