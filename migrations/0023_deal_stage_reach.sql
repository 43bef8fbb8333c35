-- The backfill below groups every stage-history entry (~1 M at the benchmark's scale) by deal: seconds on
-- a quiet machine, beyond the statement timeout the migrate command runs under on a loaded one.
SET LOCAL statement_timeout = 0;--> statement-breakpoint
CREATE TABLE "deal_stage_reach" (
	"deal_id" uuid PRIMARY KEY NOT NULL,
	"stage_ids" uuid[] NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"amount" numeric(19, 4),
	"currency" text,
	"owner_id" uuid,
	"team_id" uuid,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
-- The funnel's stored reach (deal.table.ts dealStageReach): per deal with history, the sorted distinct
-- stages its history entered and the deal's columns the funnel filters, groups and sums by. Recomputed
-- from the deal's history in the statement that writes it (any path: the service, the seed's COPY, SQL).
-- The deals are locked first (FOR NO KEY UPDATE, in id order): two transactions writing one deal's history
-- then recompute one after the other, the second reading after the first committed (READ COMMITTED takes
-- a new snapshot per statement), and a concurrent UPDATE of the deal's columns (trigger below) cannot be
-- overwritten by a recount that read them before it. Unchanged rows are not rewritten.
CREATE FUNCTION deal_stage_reach_recompute(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM deals WHERE id = ANY (ids) ORDER BY id FOR NO KEY UPDATE;
  DELETE FROM deal_stage_reach r
    WHERE r.deal_id = ANY (ids) AND NOT EXISTS (SELECT 1 FROM deal_stage_history h WHERE h.deal_id = r.deal_id);
  INSERT INTO deal_stage_reach AS r (deal_id, stage_ids, created_at, amount, currency, owner_id, team_id, deleted_at)
    SELECT d.id, x.stage_ids, d.created_at, d.amount, d.currency, d.owner_id, d.team_id, d.deleted_at
    FROM deals d CROSS JOIN LATERAL (SELECT array_agg(DISTINCT h.to_stage_id ORDER BY h.to_stage_id) AS stage_ids
                                     FROM deal_stage_history h WHERE h.deal_id = d.id) x
    WHERE d.id = ANY (ids) AND x.stage_ids IS NOT NULL
  ON CONFLICT (deal_id) DO UPDATE SET stage_ids = excluded.stage_ids, created_at = excluded.created_at, amount = excluded.amount,
    currency = excluded.currency, owner_id = excluded.owner_id, team_id = excluded.team_id, deleted_at = excluded.deleted_at
  WHERE (r.stage_ids, r.created_at, r.amount, r.currency, r.owner_id, r.team_id, r.deleted_at)
    IS DISTINCT FROM (excluded.stage_ids, excluded.created_at, excluded.amount, excluded.currency, excluded.owner_id, excluded.team_id, excluded.deleted_at);
END
$$;
--> statement-breakpoint
-- After every statement writing stage history: the deals of the entries inserted or deleted, and of the
-- entries whose deal or stage changed (old and new deal). Redating an entry changes no set, and the links
-- trigger's own UPDATE of previous/next_changed_at (migration 0021) changes neither, so it recomputes nothing.
-- Named to fire before that links trigger (triggers of one event fire in name order): the deals' lock taken
-- here then also orders two statements writing one deal's history before either reads or updates its
-- entries' links, instead of the two updating each other's entries in opposite orders (a deadlock).
CREATE FUNCTION deal_stage_history_reach() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM deal_stage_reach;
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    ids := ARRAY(SELECT DISTINCT deal_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    ids := ARRAY(SELECT DISTINCT deal_id FROM old_rows);
  ELSE
    ids := ARRAY(
      SELECT o.deal_id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id
        WHERE n.id IS NULL OR (n.deal_id, n.to_stage_id) IS DISTINCT FROM (o.deal_id, o.to_stage_id)
      UNION
      SELECT n.deal_id FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
        WHERE o.id IS NULL OR (n.deal_id, n.to_stage_id) IS DISTINCT FROM (o.deal_id, o.to_stage_id));
  END IF;
  IF cardinality(ids) > 0 THEN
    PERFORM deal_stage_reach_recompute(ids);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_reach_insert AFTER INSERT ON deal_stage_history REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_reach();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_reach_update AFTER UPDATE ON deal_stage_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_reach();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_reach_delete AFTER DELETE ON deal_stage_history REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_reach();
--> statement-breakpoint
CREATE TRIGGER deal_stage_history_funnel_reach_truncate AFTER TRUNCATE ON deal_stage_history
  FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_history_reach();
--> statement-breakpoint
-- A deal's own columns the funnel reads: copied to its reach row by a row trigger that fires only when
-- one of them is set and differs (a statement trigger with transition tables would copy every row of
-- the kanban renumbering UPDATEs, which set position on thousands of deals of a stage at a time). The
-- UPDATE waits for a recompute holding the deal's lock, and runs under the deal's own row lock.
CREATE FUNCTION deals_stage_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE deal_stage_reach SET created_at = NEW.created_at, amount = NEW.amount, currency = NEW.currency,
    owner_id = NEW.owner_id, team_id = NEW.team_id, deleted_at = NEW.deleted_at
  WHERE deal_id = NEW.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER deals_stage_reach AFTER UPDATE OF created_at, amount, currency, owner_id, team_id, deleted_at ON deals
  FOR EACH ROW WHEN ((OLD.created_at, OLD.amount, OLD.currency, OLD.owner_id, OLD.team_id, OLD.deleted_at)
    IS DISTINCT FROM (NEW.created_at, NEW.amount, NEW.currency, NEW.owner_id, NEW.team_id, NEW.deleted_at))
  EXECUTE FUNCTION deals_stage_reach();
--> statement-breakpoint
-- backfill from the history already there, in one pass, with the memory to sort it in one go
SELECT set_config('work_mem', '256MB', true);
--> statement-breakpoint
INSERT INTO deal_stage_reach (deal_id, stage_ids, created_at, amount, currency, owner_id, team_id, deleted_at)
  SELECT d.id, x.stage_ids, d.created_at, d.amount, d.currency, d.owner_id, d.team_id, d.deleted_at
  FROM (SELECT deal_id, array_agg(DISTINCT to_stage_id ORDER BY to_stage_id) AS stage_ids FROM deal_stage_history GROUP BY deal_id) x
    JOIN deals d ON d.id = x.deal_id;
--> statement-breakpoint
CREATE INDEX "deal_stage_reach_funnel_idx" ON "deal_stage_reach" USING btree ("created_at","currency","amount","owner_id","team_id","stage_ids") WHERE deleted_at IS NULL;
