-- The backfill below rewrites every stage-history entry (~1 M at the benchmark's scale): seconds
-- on a quiet machine, but it can pass the application's 15 s statement timeout on a loaded one.
-- Migrations run in one transaction, so this lasts until they are all applied.
SET LOCAL statement_timeout = '10min';--> statement-breakpoint
ALTER TABLE "deal_stage_history" ADD COLUMN "previous_changed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "deal_stage_history" ADD COLUMN "next_changed_at" timestamp (3) with time zone;--> statement-breakpoint
-- backfill of the rows already there, in one pass (before the trigger exists, so it does not rescan them)
UPDATE deal_stage_history h SET previous_changed_at = w.prev, next_changed_at = w.next
FROM (SELECT id, lag(changed_at) OVER s AS prev, lead(changed_at) OVER s AS next
      FROM deal_stage_history WINDOW s AS (PARTITION BY deal_id ORDER BY changed_at, id)) w
WHERE h.id = w.id AND (w.prev IS NOT NULL OR w.next IS NOT NULL);
--> statement-breakpoint
-- A stay's start and the span of each stage-history entry, read from the row itself: previous_changed_at
-- and next_changed_at are the changed_at of the deal's entries before and after this one in
-- (changed_at, id) order. The trigger keeps them in the statement that inserts, redates, moves or
-- deletes entries (any path: the service, the seed's COPY, SQL), recomputing only the deals touched.
-- Its own UPDATE changes neither changed_at nor deal_id nor id, so the nested call finds no deal and stops.
CREATE OR REPLACE FUNCTION deal_stage_history_links() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  touched uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT n.deal_id) INTO touched FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT o.deal_id) INTO touched FROM old_rows o;
  ELSE
    SELECT array_agg(DISTINCT x.deal_id) INTO touched FROM (
      SELECT o.deal_id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id
        WHERE n.id IS NULL OR n.deal_id <> o.deal_id OR n.changed_at IS DISTINCT FROM o.changed_at
      UNION ALL
      SELECT n.deal_id FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
        WHERE o.id IS NULL OR o.deal_id <> n.deal_id OR o.changed_at IS DISTINCT FROM n.changed_at) x;
  END IF;
  IF touched IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE deal_stage_history h SET previous_changed_at = w.prev, next_changed_at = w.next
  FROM (SELECT id, lag(changed_at) OVER s AS prev, lead(changed_at) OVER s AS next
        FROM deal_stage_history WHERE deal_id = ANY (touched)
        WINDOW s AS (PARTITION BY deal_id ORDER BY changed_at, id)) w
  WHERE h.id = w.id AND (h.previous_changed_at IS DISTINCT FROM w.prev OR h.next_changed_at IS DISTINCT FROM w.next);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_links_insert AFTER INSERT ON deal_stage_history
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_links();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_links_update AFTER UPDATE ON deal_stage_history
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_links();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_links_delete AFTER DELETE ON deal_stage_history
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_links();
--> statement-breakpoint
CREATE INDEX "activities_team_figures_idx" ON "activities" USING btree ("occurred_at","owner_id","team_id") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "deal_stage_history_left_idx" ON "deal_stage_history" USING btree ("changed_at","deal_id","from_stage_id","previous_changed_at") WHERE from_stage_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deals_closed_figures_idx" ON "deals" USING btree ("closed_at","status","created_at","amount","currency","owner_id","team_id","pipeline_id") WHERE deleted_at IS NULL AND closed_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deals_open_figures_idx" ON "deals" USING btree ("currency","stage_id","owner_id","team_id") WHERE deleted_at IS NULL AND status = 'open';--> statement-breakpoint
CREATE INDEX "deals_deleted_idx" ON "deals" USING btree ("id") WHERE deleted_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deals_created_figures_idx" ON "deals" USING btree ("created_at","id","amount","currency","owner_id","team_id") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "deals_forecast_idx" ON "deals" USING btree ("expected_close_date","id","created_at","closed_at","status","amount","currency","owner_id","team_id") WHERE deleted_at IS NULL AND amount IS NOT NULL AND currency IS NOT NULL;--> statement-breakpoint
CREATE INDEX "tickets_team_figures_idx" ON "tickets" USING btree ("created_at","solved_at","first_responded_at","assignee_id","team_id") WHERE deleted_at IS NULL;
