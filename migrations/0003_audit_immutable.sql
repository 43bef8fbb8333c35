-- The audit log is append-only for the application: rows can be inserted and sealed once (seq,
-- prev_hash, hash set on an unsealed row with nothing else changed); any other UPDATE, any DELETE
-- and TRUNCATE are refused by the database itself.
CREATE OR REPLACE FUNCTION audit_logs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.actor_role, NEW.action, NEW.entity_type,
          NEW.entity_id, NEW.before, NEW.after, NEW.request_id, NEW.ip, NEW.user_agent)
     IS NOT DISTINCT FROM
         (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.actor_role, OLD.action, OLD.entity_type,
          OLD.entity_id, OLD.before, OLD.after, OLD.request_id, OLD.ip, OLD.user_agent) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = '42501';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_guard();
--> statement-breakpoint
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_guard();
