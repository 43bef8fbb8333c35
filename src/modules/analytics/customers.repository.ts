import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import { customerCurrencySummaries as perCurrency, customerOrderSummaries as summaries } from '../customer/customer-summary.table.js';
import { orders } from '../customer/order.table.js';
import type { FigureQuery } from './figure-query.js';
import { type Interval, MAX_BUCKETS, type Range, STEP, bucketOf, inRange, roundMoney, tsOrNull } from './params.js';

// The customer figures' statements (docs/metrics.md "Customers"). A customer is a contact with at
// least one counted order: live, status paid or fulfilled. Every customer figure reads all customers
// (customers are "r all" for every role that may read these figures).
//
// Two sources, both exact: the customer summaries (customer-summary.table.ts, kept by the database
// in every order write's transaction) give each customer's first and latest counted order, count and
// sums; they serve the first-order figures for any range and the all-time figures. A figure over a
// range (or in time-zone buckets) reads the counted orders themselves through
// orders_counted_placed_idx, an index-only range scan.

export const COUNTED = sql`${orders.deletedAt} IS NULL AND ${orders.status} IN ('paid', 'fulfilled')`;

export interface CustomerOptions {
  range: Range;
  interval?: Interval | undefined;
  timeZone: string;
}

const allTime = (r: Range) => !r.from && !r.to;

const series = (o: CustomerOptions) => (o.interval ? { interval: o.interval, timeZone: o.timeZone, range: o.range } : undefined);

export function orderValueQuery(o: CustomerOptions): FigureQuery {
  if (allTime(o.range) && !o.interval) {
    // sum/count is what avg() computes (numeric_div of the exact sum by the count)
    return {
      base: sql`SELECT ${perCurrency.orders} AS orders, ${perCurrency.revenue} AS revenue, ${perCurrency.currency} AS currency FROM ${perCurrency}`,
      select: sql`sum(b.orders) AS n, sum(b.revenue)::text AS revenue, ${roundMoney(sql`sum(b.revenue) / sum(b.orders)`, sql`b.currency`)}::text AS average`,
      perCurrency: true,
    };
  }
  return {
    base: sql`SELECT ${orders.total} AS amount, ${orders.currency} AS currency
        ${o.interval ? sql`, ${bucketOf(sql`${orders.placedAt}`, o.interval, o.timeZone)} AS bucket` : sql``}
      FROM ${orders} WHERE ${COUNTED} AND ${inRange(sql`${orders.placedAt}`, o.range)}`,
    select: sql`count(b.amount) AS n, sum(b.amount)::text AS revenue, ${roundMoney(sql`avg(b.amount)`, sql`b.currency`)}::text AS average`,
    perCurrency: true,
    series: series(o),
  };
}

/** Customers whose first counted order ever is in the range, with its time (customer_order_summaries_first_idx). */
export function firstOrders(range: Range): SQL {
  return sql`SELECT ${summaries.contactId} AS contact_id, ${summaries.firstAt} AS first_at
    FROM ${summaries} WHERE ${inRange(sql`${summaries.firstAt}`, range)}`;
}
const firstOrdersAndLast = (range: Range): SQL =>
  sql`SELECT ${summaries.contactId} AS contact_id, ${summaries.firstAt} AS first_at, ${summaries.lastAt} AS last_at, ${summaries.orders} AS orders,
      ${summaries.secondAt} AS second_at, ${summaries.penultimateAt} AS penultimate_at
    FROM ${summaries} WHERE ${inRange(sql`${summaries.firstAt}`, range)}`;

export function newCustomersQuery(o: CustomerOptions): FigureQuery {
  return {
    base: sql`SELECT f.first_at ${o.interval ? sql`, ${bucketOf(sql`f.first_at`, o.interval, o.timeZone)} AS bucket` : sql``}
      FROM (${firstOrders(o.range)}) f`,
    select: sql`count(b.first_at) AS n`,
    series: series(o),
  };
}

export async function repeatPurchase(db: Executor, o: CustomerOptions): Promise<{ customers: string | number; repeat: string | number }> {
  const query = allTime(o.range)
    ? sql`SELECT count(*) AS customers, count(*) FILTER (WHERE ${summaries.orders} >= 2) AS repeat FROM ${summaries}`
    : sql`
    WITH c AS (SELECT ${orders.contactId}, count(*) AS n FROM ${orders}
               WHERE ${COUNTED} AND ${inRange(sql`${orders.placedAt}`, o.range)} GROUP BY 1)
    SELECT count(*) AS customers, count(*) FILTER (WHERE n >= 2) AS repeat FROM c`;
  return (await queryRows<{ customers: string | number; repeat: string | number }>(db, query)).rows[0] ?? { customers: 0, repeat: 0 };
}

export interface RetentionRow {
  cohort: string;
  n: number;
  customers: string | number;
  last: string;
}

/** Per monthly cohort (first counted order in the range), the customers ordering in each month n after. */
export async function retention(db: Executor, o: CustomerOptions): Promise<RetentionRow[]> {
  const tz = o.timeZone;
  const monthsBetween = (a: SQL, b: SQL) => sql`((extract(year FROM ${b})::int - extract(year FROM ${a})::int) * 12 + extract(month FROM ${b})::int - extract(month FROM ${a})::int)`;
  // Read from the summaries: every member ordered in its cohort month (month 0 = the cohort's size),
  // and a member with two or more orders in the month of its latest one. Only the orders strictly
  // between a member's first and latest can add other months, for members with three or more orders
  // and a month between the two: with up to four orders they are the second and second-to-last the
  // summaries keep; with five or more they are read per member from orders_counted_contact_idx
  // (index-only; a fifth of them at the benchmark's scale). A member's orders are all at or after its
  // first, so `from` bounds the cohorts alone. The latest month of the figure is that of the latest counted order of all (at or after
  // `from` whenever a cohort exists).
  const month = (col: SQL) => sql`date_trunc('month', ${col} AT TIME ZONE ${tz})`;
  const members = sql`SELECT contact_id, orders, first_at, last_at, second_at, penultimate_at, ${month(sql`first_at`)} AS cohort, ${month(sql`last_at`)} AS last_m
    FROM (${firstOrdersAndLast(o.range)}) f`;
  const query = sql`
    WITH c AS NOT MATERIALIZED (${members}),
    l AS (SELECT to_char(${month(sql`max(${orders.placedAt})`)}, 'YYYY-MM') AS last FROM ${orders} WHERE ${COUNTED}),
    -- one pass over the members: per cohort and month of the latest order when it is a later month
    -- (only computed for members with two or more orders), how many; it gives both the cohort's size
    -- and the members counted in their latest month (two passes before: 710 → 600 ms of CPU at 448 k)
    k AS (SELECT cohort, CASE WHEN orders >= 2 AND last_m > cohort THEN last_m END AS lm, count(*) AS n FROM c GROUP BY 1, 2),
    x AS (
      SELECT cohort, cohort AS m, sum(n) AS customers FROM k GROUP BY cohort
      UNION ALL
      SELECT cohort, lm, n FROM k WHERE lm IS NOT NULL
      UNION ALL
      SELECT d.cohort, v.m, count(*) FROM (
        SELECT cohort, last_m, ${month(sql`second_at`)} AS m1, ${month(sql`penultimate_at`)} AS m2 FROM c
        WHERE orders BETWEEN 3 AND 4 AND last_m > cohort + interval '1 month') d
        CROSS JOIN LATERAL (VALUES (d.m1), (CASE WHEN d.m2 <> d.m1 THEN d.m2 END)) v(m)
      WHERE v.m > d.cohort AND v.m < d.last_m
      GROUP BY d.cohort, v.m
      UNION ALL
      SELECT c.cohort, p.m, count(*) FROM c CROSS JOIN LATERAL (
        SELECT DISTINCT ${month(sql`placed_at`)} AS m FROM ${orders}
        WHERE ${orders.contactId} = c.contact_id AND ${COUNTED} AND ${orders.placedAt} > c.first_at AND ${orders.placedAt} < c.last_at) p
      WHERE c.orders >= 5 AND c.last_m > c.cohort + interval '1 month' AND p.m > c.cohort AND p.m < c.last_m
      GROUP BY c.cohort, p.m)
    SELECT to_char(x.cohort, 'YYYY-MM') AS cohort, ${monthsBetween(sql`x.cohort`, sql`x.m`)} AS n, sum(x.customers)::int AS customers, l.last
    FROM x, l GROUP BY x.cohort, x.m, l.last ORDER BY 1, 2`;
  return (await queryRows<RetentionRow>(db, query)).rows;
}

export interface ChurnRow {
  period: string | null;
  active: string | number;
  churned: string | number;
  lo: string | null;
  hi: string;
}

/**
 * Churn of the window [lo, hi) against the window of equal length before it, and with an interval of
 * each bucket against the one before. lo defaults to the first counted order, hi to now.
 */
export async function churn(db: Executor, o: CustomerOptions): Promise<ChurnRow[]> {
  const tz = o.timeZone;
  const counted = (lo: SQL, hi: SQL) => sql`${COUNTED} AND ${orders.placedAt} >= ${lo} AND ${orders.placedAt} < ${hi}`;
  const parts = [sql`SELECT NULL::text AS period, count(*) AS active, count(*) FILTER (WHERE cur.contact_id IS NULL) AS churned
      FROM prev LEFT JOIN cur ON cur.contact_id = prev.contact_id`];
  let ctes = sql``;
  if (o.interval) {
    const step = sql`${STEP[o.interval]}::interval`;
    const first = sql`date_trunc(${o.interval}, w.lo AT TIME ZONE ${tz})`;
    ctes = sql`,
    ob AS (SELECT DISTINCT ${orders.contactId} AS contact_id, ${bucketOf(sql`${orders.placedAt}`, o.interval, tz)} AS bucket
           FROM ${orders}, w WHERE ${counted(sql`((${first} - ${step}) AT TIME ZONE ${tz})`, sql`w.hi`)}),
    buckets AS (SELECT gs AS bucket FROM w, generate_series(${first}, (w.hi AT TIME ZONE ${tz}) - interval '1 microsecond', ${step}) gs
                LIMIT ${MAX_BUCKETS + 1})`;
    parts.push(sql`SELECT to_char(k.bucket, 'YYYY-MM-DD'), count(p.contact_id), count(p.contact_id) FILTER (WHERE c.contact_id IS NULL)
      FROM buckets k LEFT JOIN ob p ON p.bucket = k.bucket - ${step}
        LEFT JOIN ob c ON c.contact_id = p.contact_id AND c.bucket = k.bucket
      GROUP BY k.bucket`);
  }
  const query = sql`
    WITH w AS (SELECT coalesce(${tsOrNull(o.range.from)}, (SELECT min(${orders.placedAt}) FROM ${orders} WHERE ${COUNTED})) AS lo,
                      coalesce(${tsOrNull(o.range.to)}, now()) AS hi),
    prev AS (SELECT DISTINCT ${orders.contactId} AS contact_id FROM ${orders}, w WHERE ${counted(sql`w.lo - (w.hi - w.lo)`, sql`w.lo`)}),
    cur AS (SELECT DISTINCT ${orders.contactId} AS contact_id FROM ${orders}, w WHERE ${counted(sql`w.lo`, sql`w.hi`)})${ctes}
    SELECT x.*, w.lo, w.hi FROM (${sql.join(parts, sql` UNION ALL `)}) x, w ORDER BY 1 NULLS FIRST`;
  return (await queryRows<ChurnRow>(db, query)).rows;
}

export interface LifetimeRow {
  currency: string;
  customers: string | number;
  orders: string | number;
  revenue: string;
  average: string;
  historical: string;
  frequency: number | null;
  predicted: string | null;
  days: number | null;
}

/** Per currency over the range: customers, orders, revenue, AOV, historical and predicted value per customer. */
export async function lifetimeValue(db: Executor, o: CustomerOptions & { lifespanYears: number }): Promise<LifetimeRow[]> {
  const years = sql`(s.days / 365.25)`;
  // all time: per currency, the customers' summaries add up to the same counts and exact sums, and the
  // window starts at the first counted order of all
  const perCurrencyOf = allTime(o.range)
    ? sql`s AS (SELECT (extract(epoch FROM now() - (SELECT min(${summaries.firstAt}) FROM ${summaries})) / 86400.0)::numeric AS days),
    c AS (SELECT ${perCurrency.currency} AS currency, count(*) AS customers, sum(${perCurrency.orders}) AS orders,
                 sum(${perCurrency.revenue}) AS revenue FROM ${perCurrency} GROUP BY 1)`
    : sql`o AS (SELECT ${orders.contactId} AS contact_id, ${orders.currency} AS currency, ${orders.total} AS total, ${orders.placedAt} AS placed_at
               FROM ${orders} WHERE ${COUNTED} AND ${inRange(sql`${orders.placedAt}`, o.range)}),
    s AS (SELECT (extract(epoch FROM coalesce(${tsOrNull(o.range.to)}, now()) - coalesce(${tsOrNull(o.range.from)}, (SELECT min(placed_at) FROM o))) / 86400.0)::numeric AS days),
    c AS (SELECT currency, count(DISTINCT contact_id) AS customers, count(*) AS orders, sum(total) AS revenue FROM o GROUP BY 1)`;
  const query = sql`
    WITH ${perCurrencyOf}
    SELECT c.currency, c.customers, c.orders, c.revenue::text AS revenue,
           ${roundMoney(sql`c.revenue / c.orders`, sql`c.currency`)}::text AS average,
           ${roundMoney(sql`c.revenue / c.customers`, sql`c.currency`)}::text AS historical,
           round(c.orders::numeric / c.customers / nullif(${years}, 0), 4)::float8 AS frequency,
           ${roundMoney(sql`c.revenue / c.customers / nullif(${years}, 0) * ${String(o.lifespanYears)}::numeric`, sql`c.currency`)}::text AS predicted,
           round(s.days, 2)::float8 AS days
    FROM c, s ORDER BY c.currency`;
  return (await queryRows<LifetimeRow>(db, query)).rows;
}

export const RFM_SEGMENTS = ['champions', 'loyal', 'new_customers', 'potential_loyalists', 'at_risk', 'hibernating', 'lost'] as const;

export interface RfmRow {
  currency: string;
  segment: (typeof RFM_SEGMENTS)[number];
  n: string | number;
}

/**
 * Quintile scores 1–5 per currency: a customer's score on a measure is ceil(5 × k / N), k the number
 * of customers of the currency whose value is at most theirs (ties score alike), then the segment rules.
 */
export async function rfm(db: Executor, o: CustomerOptions & { currency?: string | undefined }): Promise<RfmRow[]> {
  // ceil(5k/N) is at least j exactly when k ≥ q + 1, q = floor((j − 1)N / 5), i.e. when the value is at
  // least the (q + 1)-th smallest of the currency (ties included): the thresholds come from one sort of
  // the values per measure (percentile_disc at (q + 0.5) / N is the (q + 1)-th value, whatever the float
  // rounding). The scores pass them in order, so "score ≥ j + 1" is "value ≥ threshold j", and each
  // segment rule is a few comparisons with the thresholds: the scores themselves are never computed
  // (materializing them per customer cost more than the segment rules: 1 150 → 680 ms of CPU at 448 k
  // customers).
  const customerValues = allTime(o.range)
    ? sql`SELECT ${perCurrency.contactId} AS contact_id, ${perCurrency.currency} COLLATE "C" AS currency, ${perCurrency.lastAt} AS last_at,
                 ${perCurrency.orders} AS f, ${perCurrency.revenue} AS m
          FROM ${perCurrency} ${o.currency ? sql`WHERE ${perCurrency.currency} = ${o.currency}` : sql``}`
    : sql`SELECT ${orders.contactId} AS contact_id, ${orders.currency} COLLATE "C" AS currency, max(${orders.placedAt}) AS last_at,
                 count(*) AS f, sum(${orders.total}) AS m
          FROM ${orders} WHERE ${COUNTED} AND ${inRange(sql`${orders.placedAt}`, o.range)}
            ${o.currency ? sql`AND ${orders.currency} = ${o.currency}` : sql``}
          GROUP BY 1, 2`;
  const query = sql`
    WITH c AS ${allTime(o.range) ? sql`NOT MATERIALIZED` : sql`MATERIALIZED`} (${customerValues}),
    p AS (SELECT currency, ARRAY[((n / 5) + 0.5) / n, (((2 * n) / 5) + 0.5) / n, (((3 * n) / 5) + 0.5) / n, (((4 * n) / 5) + 0.5) / n]::float8[] AS q
          FROM (SELECT currency, count(*) AS n FROM c GROUP BY 1) n),
    t AS (SELECT p.currency, x.* FROM p CROSS JOIN LATERAL (
            SELECT percentile_disc(p.q) WITHIN GROUP (ORDER BY c.last_at) AS last_at, percentile_disc(p.q) WITHIN GROUP (ORDER BY c.f) AS f,
                   percentile_disc(p.q) WITHIN GROUP (ORDER BY c.m) AS m
            FROM c WHERE c.currency = p.currency) x),
    -- threshold j of each measure (score ≥ j + 1 from it on): those the segment rules compare with
    u AS MATERIALIZED (SELECT currency, last_at[1] AS r2, last_at[2] AS r3, last_at[3] AS r4, f[2] AS f3, f[3] AS f4, m[3] AS m4 FROM t)
    -- the rules of RFM_SEGMENTS in order, first match: R ≥ 4 is last_at ≥ r4, R = 3 what is left of R ≥ 3, …
    SELECT g.currency, (ARRAY['champions', 'loyal', 'new_customers', 'potential_loyalists', 'at_risk', 'hibernating', 'lost'])[g.segment] AS segment,
           count(*) AS n
    FROM (SELECT c.currency, CASE WHEN c.last_at >= t.r4 AND c.f >= t.f4 AND c.m >= t.m4 THEN 1 WHEN c.last_at >= t.r3 AND c.f >= t.f3 THEN 2
                                  WHEN c.last_at >= t.r4 THEN 3 WHEN c.last_at >= t.r3 THEN 4 WHEN c.f >= t.f3 THEN 5 WHEN c.last_at >= t.r2 THEN 6
                                  ELSE 7 END AS segment
          FROM c JOIN u t ON t.currency = c.currency) g
    GROUP BY g.currency, g.segment ORDER BY 1, 2`;
  return (await queryRows<RfmRow>(db, query)).rows;
}
