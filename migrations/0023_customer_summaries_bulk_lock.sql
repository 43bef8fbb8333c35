-- The customer summaries' recount (migration 0022) took one advisory lock per contact a statement
-- touched. Locks live in a shared table sized max_locks_per_transaction × connections (64 × ~100), so
-- one statement writing orders of many contacts failed with "out of shared memory": the 1 M-order
-- COPY of the benchmark seed did. A statement touching more than 256 contacts now takes one exclusive
-- lock over every contact instead (advisory key (8, 0)), which every per-contact recount also holds
-- shared: a large recount waits for the small ones in flight and they wait for it, and two large ones
-- take turns. Small writes keep the per-contact locks, so they still run side by side.
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
  INSERT INTO customer_order_summaries (contact_id, first_at, last_at, orders)
    SELECT contact_id, min(placed_at), max(placed_at), count(*) FROM orders
    WHERE contact_id = ANY (ids) AND deleted_at IS NULL AND status IN ('paid', 'fulfilled') GROUP BY contact_id;
  INSERT INTO customer_currency_summaries (contact_id, currency, first_at, last_at, orders, revenue)
    SELECT contact_id, currency, min(placed_at), max(placed_at), count(*), sum(total) FROM orders
    WHERE contact_id = ANY (ids) AND deleted_at IS NULL AND status IN ('paid', 'fulfilled') GROUP BY contact_id, currency;
END
$$;
