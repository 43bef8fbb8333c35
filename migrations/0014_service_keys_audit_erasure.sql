-- Foreign keys between the service module's tables and the customer module's (declared here so
-- neither module's table file imports the other's, as in 0010).
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_requester_id_contacts_id_fk" FOREIGN KEY ("requester_id") REFERENCES "public"."contacts"("id");--> statement-breakpoint
UPDATE "feedback" SET "ticket_id" = NULL WHERE "ticket_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id");--> statement-breakpoint
-- The audit log stays append-only with two exceptions: the one-time sealing of a committed row, and a
-- GDPR erasure, which may replace before/after values and record their digests in `redacted` (and
-- nothing else) inside a transaction that declared itself with SET LOCAL crm.audit_erasure = 'on'.
CREATE OR REPLACE FUNCTION audit_logs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.actor_role, NEW.action, NEW.entity_type,
          NEW.entity_id, NEW.before, NEW.after, NEW.request_id, NEW.ip, NEW.user_agent, NEW.redacted, NEW.hash_format)
     IS NOT DISTINCT FROM
         (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.actor_role, OLD.action, OLD.entity_type,
          OLD.entity_id, OLD.before, OLD.after, OLD.request_id, OLD.ip, OLD.user_agent, OLD.redacted, OLD.hash_format) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND current_setting('crm.audit_erasure', true) = 'on' AND NEW.redacted IS NOT NULL
     AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.actor_role, NEW.action, NEW.entity_type,
          NEW.entity_id, NEW.request_id, NEW.ip, NEW.user_agent, NEW.seq, NEW.prev_hash, NEW.hash, NEW.hash_format)
     IS NOT DISTINCT FROM
         (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.actor_role, OLD.action, OLD.entity_type,
          OLD.entity_id, OLD.request_id, OLD.ip, OLD.user_agent, OLD.seq, OLD.prev_hash, OLD.hash, OLD.hash_format) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = '42501';
END
$$;
