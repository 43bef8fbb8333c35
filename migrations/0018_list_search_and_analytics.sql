-- Written by drizzle-kit from the table files, then made idempotent (IF [NOT] EXISTS): the 1 M benchmark
-- database had some of these indexes and columns made by hand while they were tuned.
DROP INDEX IF EXISTS "activities_due_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "contacts_last_name_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "orders_status_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "deals_amount_idx";--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN IF NOT EXISTS "business_calendar" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN IF NOT EXISTS "business_first_response_minutes" integer;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN IF NOT EXISTS "business_first_response_for" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN IF NOT EXISTS "business_resolution_minutes" integer;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN IF NOT EXISTS "business_resolution_for" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "activities_due_sort_idx" ON "activities" USING btree (("due_at" IS NULL),coalesce("due_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "companies_domain_sort_idx" ON "companies" USING btree (("domain" IS NULL),coalesce("domain", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "companies_industry_sort_idx" ON "companies" USING btree (("industry" IS NULL),coalesce("industry", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "companies_employees_sort_idx" ON "companies" USING btree (("employees" IS NULL),coalesce("employees", 0),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "companies_annual_revenue_sort_idx" ON "companies" USING btree (("annual_revenue" IS NULL),coalesce("annual_revenue", 0),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "contacts_last_name_sort_idx" ON "contacts" USING btree (("last_name" IS NULL),coalesce("last_name", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "contacts_first_name_sort_idx" ON "contacts" USING btree (("first_name" IS NULL),coalesce("first_name", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "contacts_email_sort_idx" ON "contacts" USING btree (("email" IS NULL),coalesce("email", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "contacts_job_title_sort_idx" ON "contacts" USING btree (("job_title" IS NULL),coalesce("job_title", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "contacts_lifecycle_stage_sort_idx" ON "contacts" USING btree (("lifecycle_stage" IS NULL),coalesce("lifecycle_stage", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "orders_updated_idx" ON "orders" USING btree ("updated_at","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "orders_status_sort_idx" ON "orders" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "orders_total_sort_idx" ON "orders" USING btree ("total","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "orders_currency_sort_idx" ON "orders" USING btree ("currency","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "orders_external_id_sort_idx" ON "orders" USING btree (("external_id" IS NULL),coalesce("external_id", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deals_status_sort_idx" ON "deals" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deals_position_sort_idx" ON "deals" USING btree ("position","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deals_amount_sort_idx" ON "deals" USING btree (("amount" IS NULL),coalesce("amount", 0),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deals_currency_sort_idx" ON "deals" USING btree (("currency" IS NULL),coalesce("currency", ''),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deals_close_date_sort_idx" ON "deals" USING btree (("expected_close_date" IS NULL),coalesce("expected_close_date", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deals_closed_at_sort_idx" ON "deals" USING btree (("closed_at" IS NULL),coalesce("closed_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_subject_sort_idx" ON "tickets" USING btree ("subject","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_status_sort_idx" ON "tickets" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_priority_sort_idx" ON "tickets" USING btree ("priority","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_channel_sort_idx" ON "tickets" USING btree ("channel","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_satisfaction_sort_idx" ON "tickets" USING btree (("satisfaction_score" IS NULL),coalesce("satisfaction_score", 0),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_first_response_due_sort_idx" ON "tickets" USING btree (("first_response_due_at" IS NULL),coalesce("first_response_due_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_resolution_due_sort_idx" ON "tickets" USING btree (("resolution_due_at" IS NULL),coalesce("resolution_due_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_first_responded_sort_idx" ON "tickets" USING btree (("first_responded_at" IS NULL),coalesce("first_responded_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_solved_sort_idx" ON "tickets" USING btree (("solved_at" IS NULL),coalesce("solved_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tickets_closed_sort_idx" ON "tickets" USING btree (("closed_at" IS NULL),coalesce("closed_at", '-infinity'),"id");