import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { type Interval, MAX_BUCKETS, type Range, STEP, tsOrNull } from './params.js';

// One statement per figure: the figure's rows (`base`, one per counted record) aggregated as a total,
// per group key (groupBy) and per bucket (interval), each optionally per currency, through UNION ALL of
// the same aggregate list. Buckets come from generate_series so empty ones are listed too.

export interface FigureQuery {
  /** SELECT … producing the counted records; columns `key` (with groupBy), `bucket` (with interval), `currency` (perCurrency) */
  base: SQL;
  /** aggregate expressions over alias `b` (the base), each `AS name` */
  select: SQL;
  perCurrency?: boolean;
  groupBy?: boolean;
  series?: { interval: Interval; timeZone: string; range: Range } | undefined;
}

export interface PartRow {
  part: 'total' | 'group' | 'series';
  key: string | null;
  period: string | null;
  currency?: string | null;
  [measure: string]: unknown;
}

function bucketsCte(s: NonNullable<FigureQuery['series']>): SQL {
  const tz = s.timeZone;
  const lo = sql`coalesce(date_trunc(${s.interval}, ${tsOrNull(s.range.from)} AT TIME ZONE ${tz}), (SELECT min(bucket) FROM base))`;
  const hi = sql`coalesce((${tsOrNull(s.range.to)} AT TIME ZONE ${tz}) - interval '1 microsecond', (SELECT max(bucket) FROM base))`;
  return sql`, buckets AS (
    SELECT gs AS bucket FROM generate_series(${lo}, ${hi}, ${STEP[s.interval]}::interval) gs LIMIT ${MAX_BUCKETS + 1})`;
}

export function figureSql(q: FigureQuery): SQL {
  const cur = q.perCurrency ? sql`, b.currency` : sql``;
  const curCol = q.perCurrency ? sql`, b.currency AS currency` : sql``;
  const parts: SQL[] = [
    sql`SELECT 'total' AS part, NULL::text AS key, NULL::text AS period${curCol}, ${q.select} FROM base b${q.perCurrency ? sql` GROUP BY b.currency` : sql``}`,
  ];
  if (q.groupBy) {
    parts.push(sql`SELECT 'group', b.key::text, NULL::text${curCol}, ${q.select} FROM base b GROUP BY b.key${cur}`);
  }
  if (q.series) {
    parts.push(sql`SELECT 'series', NULL::text, to_char(k.bucket, 'YYYY-MM-DD')${curCol}, ${q.select}
      FROM buckets k LEFT JOIN base b ON b.bucket = k.bucket GROUP BY k.bucket${cur}`);
  }
  return sql`WITH base AS (${q.base})${q.series ? bucketsCte(q.series) : sql``}
    ${sql.join(parts, sql` UNION ALL `)}
    ORDER BY 1, 2 NULLS LAST, 3${q.perCurrency ? sql`, 4` : sql``}`;
}

/** Runs the figure; refuses a series longer than MAX_BUCKETS. */
export async function runFigure<R extends PartRow>(db: Executor, q: FigureQuery): Promise<{ total: R[]; groups: R[]; series: R[] }> {
  const { rows } = await queryRows<R>(db, figureSql(q));
  const out = { total: [] as R[], groups: [] as R[], series: [] as R[] };
  for (const r of rows) (r.part === 'total' ? out.total : r.part === 'group' ? out.groups : out.series).push(r);
  if (new Set(out.series.map((r) => r.period)).size > MAX_BUCKETS) {
    throw validationFailed([{ path: 'interval', message: `more than ${MAX_BUCKETS} buckets: narrow from and to or take a longer interval` }]);
  }
  return out;
}

/** Rows of several currencies of one key/period folded into one entry each, in order of first appearance. */
export function foldBy<R, T>(rows: R[], keyOf: (r: R) => string | null, make: (r: R) => T, add: (t: T, r: R) => void): T[] {
  const m = new Map<string | null, T>();
  for (const r of rows) {
    const k = keyOf(r);
    let t = m.get(k);
    if (t === undefined) {
      t = make(r);
      m.set(k, t);
    }
    add(t, r);
  }
  return [...m.values()];
}

/** Spreads total / groups / series parts into the DTO shape, each part made by `one`. */
export function shape<R extends PartRow, T>(parts: { total: R[]; groups: R[]; series: R[] }, q: { groupBy?: unknown; interval?: unknown }, one: (rows: R[]) => T) {
  const out: { total: T; groups?: ({ key: string | null } & T)[]; series?: ({ period: string } & T)[] } = { total: one(parts.total) };
  if (q.groupBy) out.groups = foldBy(parts.groups, (r) => r.key, () => [] as R[], (t, r) => t.push(r)).map((rows) => ({ key: rows[0]?.key ?? null, ...one(rows) }));
  if (q.interval) out.series = foldBy(parts.series, (r) => r.period, () => [] as R[], (t, r) => t.push(r)).map((rows) => ({ period: rows[0]?.period as string, ...one(rows) }));
  return out;
}
