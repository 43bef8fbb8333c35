-- The backfill below reads every counted order (seconds at 1 M orders; more on a loaded machine): beyond the
-- statement timeout the migrate command runs under, so SET LOCAL lifts it for this transaction.
SET LOCAL statement_timeout = 0;--> statement-breakpoint
ALTER TABLE "customer_order_summaries" ADD COLUMN "second_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "customer_order_summaries" ADD COLUMN "penultimate_at" timestamp (3) with time zone;--> statement-breakpoint
-- The recount of migration 0023, also keeping the second and second-to-last counted orders of a
-- customer with three or more (customer-summary.table.ts): for up to four orders they are all the
-- orders between the first and the latest, the ones retention reads month by month.
CREATE OR REPLACE FUNCTION customer_summaries_recompute(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) > 256 THEN
    PERFORM pg_advisory_xact_lock(8, 0);
  ELSE
    PERFORM pg_advisory_xact_lock_shared(8, 0);
    -- in id order, so two transactions over the same contacts cannot deadlock on these locks
    PERFORM pg_advisory_xact_lock(7, hashtext(id::text)) FROM (SELECT DISTINCT unnest(ids) AS id ORDER BY 1) x;
  END IF;
  DELETE FROM customer_order_summaries WHERE contact_id = ANY (ids);
  DELETE FROM customer_currency_summaries WHERE contact_id = ANY (ids);
  INSERT INTO customer_order_summaries (contact_id, first_at, last_at, orders, second_at, penultimate_at)
    SELECT contact_id, min(placed_at), max(placed_at), count(*),
      CASE WHEN count(*) >= 3 THEN (array_agg(placed_at ORDER BY placed_at))[2] END,
      CASE WHEN count(*) >= 3 THEN (array_agg(placed_at ORDER BY placed_at DESC))[2] END
    FROM orders
    WHERE contact_id = ANY (ids) AND deleted_at IS NULL AND status IN ('paid', 'fulfilled') GROUP BY contact_id;
  INSERT INTO customer_currency_summaries (contact_id, currency, first_at, last_at, orders, revenue)
    SELECT contact_id, currency, min(placed_at), max(placed_at), count(*), sum(total) FROM orders
    WHERE contact_id = ANY (ids) AND deleted_at IS NULL AND status IN ('paid', 'fulfilled') GROUP BY contact_id, currency;
END
$$;
--> statement-breakpoint
SELECT set_config('work_mem', '256MB', true);
--> statement-breakpoint
UPDATE customer_order_summaries s SET second_at = m.second_at, penultimate_at = m.penultimate_at
  FROM (SELECT contact_id, (array_agg(placed_at ORDER BY placed_at))[2] AS second_at, (array_agg(placed_at ORDER BY placed_at DESC))[2] AS penultimate_at
        FROM orders WHERE deleted_at IS NULL AND status IN ('paid', 'fulfilled') GROUP BY contact_id HAVING count(*) >= 3) m
  WHERE m.contact_id = s.contact_id;
