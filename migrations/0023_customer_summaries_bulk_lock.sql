-- One statement writing the counted orders of many customers (a seed's COPY of 1 M orders, a large
-- import or SQL backfill) took one advisory lock per customer. PostgreSQL keeps every lock of every
-- transaction in one shared table with room for max_locks_per_transaction × max_connections
-- (6 400 by default), so such a statement failed with "out of shared memory". Writers now also take
-- a class lock: up to 64 customers, shared, plus the per-customer locks as before; beyond that,
-- exclusive, and no per-customer locks. A large writer then waits for the small ones in flight and
-- holds them off until it commits, so the recount of a customer still never reads another
-- transaction's orders before they commit. (A transaction that first writes a few customers and then
-- many upgrades the class lock; two doing that at once get a deadlock error, and one is rolled back.)
CREATE OR REPLACE FUNCTION customer_summaries_recompute(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) > 64 THEN
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
