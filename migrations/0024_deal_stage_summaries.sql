-- The backfill below groups every stage-history entry (~1 M at the benchmark's scale) by deal: seconds on
-- a quiet machine, beyond the statement timeout the migrate command runs under on a loaded one.
SET LOCAL statement_timeout = 0;--> statement-breakpoint
CREATE TABLE "deal_stage_summaries" (
	"deal_id" uuid PRIMARY KEY NOT NULL,
	"reached_stage_ids" uuid[] NOT NULL,
	"entered_at" timestamp (3) with time zone[] NOT NULL,
	"entered_stage_ids" uuid[] NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"amount" numeric(19, 4),
	"currency" text,
	"expected_close_date" date,
	"status" text NOT NULL,
	"closed_at" timestamp (3) with time zone,
	"owner_id" uuid,
	"team_id" uuid,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
-- The deal stage summaries (deal.table.ts dealStageSummaries): per deal with history, its path (every
-- entry's changed_at and to_stage_id in (changed_at, id) order, and the sorted distinct stages entered) and
-- the deal's columns the funnel and forecast accuracy read. Recomputed from the deal's history in the
-- statement that writes it (any path: the service, the seed's COPY, SQL). The deals are locked first (FOR
-- NO KEY UPDATE, in id order): two transactions writing one deal's history then recompute one after the
-- other, the second reading after the first committed (READ COMMITTED takes a new snapshot per statement),
-- and a concurrent UPDATE of the deal's columns (trigger below) cannot be overwritten by a recount that
-- read them before it. Unchanged rows are not rewritten.
CREATE FUNCTION deal_stage_summaries_recompute(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM deals WHERE id = ANY (ids) ORDER BY id FOR NO KEY UPDATE;
  DELETE FROM deal_stage_summaries s
    WHERE s.deal_id = ANY (ids) AND NOT EXISTS (SELECT 1 FROM deal_stage_history h WHERE h.deal_id = s.deal_id);
  INSERT INTO deal_stage_summaries AS s (deal_id, reached_stage_ids, entered_at, entered_stage_ids, created_at, amount, currency,
      expected_close_date, status, closed_at, owner_id, team_id, deleted_at)
    SELECT d.id, x.reached, x.entered_at, x.entered_stage_ids, d.created_at, d.amount, d.currency,
      d.expected_close_date, d.status, d.closed_at, d.owner_id, d.team_id, d.deleted_at
    FROM deals d CROSS JOIN LATERAL (
      SELECT array_agg(DISTINCT h.to_stage_id ORDER BY h.to_stage_id) AS reached,
             array_agg(h.changed_at ORDER BY h.changed_at, h.id) AS entered_at,
             array_agg(h.to_stage_id ORDER BY h.changed_at, h.id) AS entered_stage_ids
      FROM deal_stage_history h WHERE h.deal_id = d.id) x
    WHERE d.id = ANY (ids) AND x.reached IS NOT NULL
  ON CONFLICT (deal_id) DO UPDATE SET reached_stage_ids = excluded.reached_stage_ids, entered_at = excluded.entered_at,
    entered_stage_ids = excluded.entered_stage_ids, created_at = excluded.created_at, amount = excluded.amount,
    currency = excluded.currency, expected_close_date = excluded.expected_close_date, status = excluded.status,
    closed_at = excluded.closed_at, owner_id = excluded.owner_id, team_id = excluded.team_id, deleted_at = excluded.deleted_at
  WHERE (s.reached_stage_ids, s.entered_at, s.entered_stage_ids, s.created_at, s.amount, s.currency, s.expected_close_date,
         s.status, s.closed_at, s.owner_id, s.team_id, s.deleted_at)
    IS DISTINCT FROM (excluded.reached_stage_ids, excluded.entered_at, excluded.entered_stage_ids, excluded.created_at,
         excluded.amount, excluded.currency, excluded.expected_close_date, excluded.status, excluded.closed_at,
         excluded.owner_id, excluded.team_id, excluded.deleted_at);
END
$$;
--> statement-breakpoint
-- After every statement writing stage history: the deals of the entries inserted or deleted, and of the
-- entries whose deal, stage, time or id changed (old and new deal). The links trigger's own UPDATE of
-- previous/next_changed_at (migration 0021) changes none of them, so it recomputes nothing.
-- Named to fire before that links trigger (triggers of one event fire in name order): the deals' lock taken
-- here then also orders two statements writing one deal's history before either reads or updates its
-- entries' links, instead of the two updating each other's entries in opposite orders (a deadlock).
CREATE FUNCTION deal_stage_history_summaries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM deal_stage_summaries;
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    ids := ARRAY(SELECT DISTINCT deal_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    ids := ARRAY(SELECT DISTINCT deal_id FROM old_rows);
  ELSE
    ids := ARRAY(
      SELECT o.deal_id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id
        WHERE n.id IS NULL OR (n.deal_id, n.to_stage_id, n.changed_at) IS DISTINCT FROM (o.deal_id, o.to_stage_id, o.changed_at)
      UNION
      SELECT n.deal_id FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
        WHERE o.id IS NULL OR (n.deal_id, n.to_stage_id, n.changed_at) IS DISTINCT FROM (o.deal_id, o.to_stage_id, o.changed_at));
  END IF;
  IF cardinality(ids) > 0 THEN
    PERFORM deal_stage_summaries_recompute(ids);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_summaries_insert AFTER INSERT ON deal_stage_history REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_summaries();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_summaries_update AFTER UPDATE ON deal_stage_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_summaries();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_summaries_delete AFTER DELETE ON deal_stage_history REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_summaries();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_summaries_truncate AFTER TRUNCATE ON deal_stage_history
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_summaries();
--> statement-breakpoint
-- A deal's own columns the summaries hold: copied by a row trigger that fires only when one of them is set
-- and differs (a statement trigger with transition tables would copy every row of the kanban renumbering
-- UPDATEs, which set position on thousands of deals of a stage at a time). It runs under the deal's row
-- lock, so it waits for a recompute holding that lock, and a later recompute waits for it.
CREATE FUNCTION deals_stage_summaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE deal_stage_summaries SET created_at = NEW.created_at, amount = NEW.amount, currency = NEW.currency,
    expected_close_date = NEW.expected_close_date, status = NEW.status, closed_at = NEW.closed_at,
    owner_id = NEW.owner_id, team_id = NEW.team_id, deleted_at = NEW.deleted_at
  WHERE deal_id = NEW.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER deals_stage_summaries AFTER UPDATE OF created_at, amount, currency, expected_close_date, status, closed_at, owner_id, team_id, deleted_at ON deals
  FOR EACH ROW WHEN ((OLD.created_at, OLD.amount, OLD.currency, OLD.expected_close_date, OLD.status, OLD.closed_at, OLD.owner_id, OLD.team_id, OLD.deleted_at)
    IS DISTINCT FROM (NEW.created_at, NEW.amount, NEW.currency, NEW.expected_close_date, NEW.status, NEW.closed_at, NEW.owner_id, NEW.team_id, NEW.deleted_at))
  EXECUTE FUNCTION deals_stage_summaries();
--> statement-breakpoint
-- backfill from the history already there, in one pass, with the memory to sort it in one go
SELECT set_config('work_mem', '256MB', true);
--> statement-breakpoint
INSERT INTO deal_stage_summaries (deal_id, reached_stage_ids, entered_at, entered_stage_ids, created_at, amount, currency,
    expected_close_date, status, closed_at, owner_id, team_id, deleted_at)
  SELECT d.id, x.reached, x.entered_at, x.entered_stage_ids, d.created_at, d.amount, d.currency,
    d.expected_close_date, d.status, d.closed_at, d.owner_id, d.team_id, d.deleted_at
  FROM (SELECT deal_id, array_agg(DISTINCT to_stage_id ORDER BY to_stage_id) AS reached,
               array_agg(changed_at ORDER BY changed_at, id) AS entered_at, array_agg(to_stage_id ORDER BY changed_at, id) AS entered_stage_ids
        FROM deal_stage_history GROUP BY deal_id) x
    JOIN deals d ON d.id = x.deal_id;
--> statement-breakpoint
CREATE INDEX "deal_stage_summaries_funnel_idx" ON "deal_stage_summaries" USING btree ("created_at","currency","amount","owner_id","team_id","reached_stage_ids") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "deal_stage_summaries_forecast_idx" ON "deal_stage_summaries" USING btree ("expected_close_date","created_at","closed_at","status","amount","currency","owner_id","team_id","entered_at","entered_stage_ids") WHERE deleted_at IS NULL AND amount IS NOT NULL AND currency IS NOT NULL;
