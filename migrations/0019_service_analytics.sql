-- The backfill below rewrites every ticket row once (~2 min for 200 k tickets at a load average of 13,
-- most of it maintaining the tickets' other indexes): beyond the service's statement timeout, which the
-- migrate command runs under. SET LOCAL lifts it for this migration's transaction only.
SET LOCAL statement_timeout = 0;--> statement-breakpoint
-- Stored business times (ticket-business-times.ts) filled for the tickets not measured yet whose
-- calendar is around the clock without holidays: there business minutes are the calendar minutes
-- between the two instants, rounded (businessMinutesBetween), and the calendar's key is the first 20
-- hex digits of sha256 over the JSON ["<zone>",null,[]] (calendarKey). The calendar is the ticket's
-- policy's, else the live default policy's, else around the clock in UTC (ticketCalendars). Tickets
-- in calendars with opening hours or holidays are left to the refresher worker, and measured at read
-- time until it has come by. Before the indexes below, so the update does not maintain them.
WITH policy AS (
  SELECT id, is_default AND deleted_at IS NULL AS is_default,
         (business_hours IS NULL OR jsonb_typeof(business_hours) = 'null') AND cardinality(holidays) = 0 AS plain,
         substr(encode(sha256(convert_to('["' || time_zone || '",null,[]]', 'UTF8')), 'hex'), 1, 20) AS key
  FROM sla_policies
), fallback AS (
  SELECT coalesce((SELECT plain FROM policy WHERE is_default), true) AS plain,
         coalesce((SELECT key FROM policy WHERE is_default), substr(encode(sha256(convert_to('["UTC",null,[]]', 'UTF8')), 'hex'), 1, 20)) AS key
), calendar AS (
  SELECT t.id, coalesce(p.plain, f.plain) AS plain, coalesce(p.key, f.key) AS key
  FROM tickets t LEFT JOIN policy p ON p.id = t.sla_policy_id CROSS JOIN fallback f
  WHERE t.business_calendar IS NULL
)
UPDATE tickets AS t SET
  business_calendar = c.key,
  business_first_response_minutes = CASE WHEN t.first_responded_at IS NULL THEN NULL
    WHEN t.first_responded_at > t.created_at THEN round(extract(epoch FROM t.first_responded_at - t.created_at) / 60)::integer ELSE 0 END,
  business_first_response_for = t.first_responded_at,
  business_resolution_minutes = CASE WHEN t.solved_at IS NULL THEN NULL
    WHEN t.solved_at > t.created_at THEN round(extract(epoch FROM t.solved_at - t.created_at) / 60)::integer ELSE 0 END,
  business_resolution_for = t.solved_at
FROM calendar c WHERE c.id = t.id AND c.plain;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "feedback_live_nps_idx" ON "feedback" USING btree ("created_at","score") WHERE "feedback"."deleted_at" IS NULL AND "feedback"."type" = 'nps';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_live_created_idx" ON "tickets" USING btree ("created_at","first_responded_at","solved_at","first_response_due_at","resolution_due_at","first_response_breached_at","resolution_breached_at","assignee_id","team_id","sla_policy_id","business_calendar","business_first_response_for","business_first_response_minutes","business_resolution_for","business_resolution_minutes","id") WHERE "tickets"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_live_solved_idx" ON "tickets" USING btree ("solved_at") WHERE "tickets"."deleted_at" IS NULL AND "tickets"."solved_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_live_open_idx" ON "tickets" USING btree ("status","priority") WHERE "tickets"."deleted_at" IS NULL AND "tickets"."status" IN ('new', 'open', 'pending');--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_live_rated_idx" ON "tickets" USING btree ("satisfaction_at","satisfaction_score") WHERE "tickets"."deleted_at" IS NULL AND "tickets"."satisfaction_score" IS NOT NULL AND "tickets"."satisfaction_at" IS NOT NULL;