DROP INDEX "activities_due_idx";--> statement-breakpoint
DROP INDEX "contacts_last_name_idx";--> statement-breakpoint
DROP INDEX "orders_status_idx";--> statement-breakpoint
DROP INDEX "deals_amount_idx";--> statement-breakpoint
CREATE INDEX "activities_due_sort_idx" ON "activities" USING btree (("due_at" IS NULL),coalesce("due_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX "companies_domain_sort_idx" ON "companies" USING btree (("domain" IS NULL),coalesce("domain", ''),"id");--> statement-breakpoint
CREATE INDEX "companies_industry_sort_idx" ON "companies" USING btree (("industry" IS NULL),coalesce("industry", ''),"id");--> statement-breakpoint
CREATE INDEX "companies_employees_sort_idx" ON "companies" USING btree (("employees" IS NULL),coalesce("employees", 0),"id");--> statement-breakpoint
CREATE INDEX "companies_annual_revenue_sort_idx" ON "companies" USING btree (("annual_revenue" IS NULL),coalesce("annual_revenue", 0),"id");--> statement-breakpoint
CREATE INDEX "contacts_last_name_sort_idx" ON "contacts" USING btree (("last_name" IS NULL),coalesce("last_name", ''),"id");--> statement-breakpoint
CREATE INDEX "contacts_first_name_sort_idx" ON "contacts" USING btree (("first_name" IS NULL),coalesce("first_name", ''),"id");--> statement-breakpoint
CREATE INDEX "contacts_email_sort_idx" ON "contacts" USING btree (("email" IS NULL),coalesce("email", ''),"id");--> statement-breakpoint
CREATE INDEX "contacts_job_title_sort_idx" ON "contacts" USING btree (("job_title" IS NULL),coalesce("job_title", ''),"id");--> statement-breakpoint
CREATE INDEX "contacts_lifecycle_stage_sort_idx" ON "contacts" USING btree (("lifecycle_stage" IS NULL),coalesce("lifecycle_stage", ''),"id");--> statement-breakpoint
CREATE INDEX "orders_updated_idx" ON "orders" USING btree ("updated_at","id");--> statement-breakpoint
CREATE INDEX "orders_status_sort_idx" ON "orders" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "orders_total_sort_idx" ON "orders" USING btree ("total","id");--> statement-breakpoint
CREATE INDEX "orders_currency_sort_idx" ON "orders" USING btree ("currency","id");--> statement-breakpoint
CREATE INDEX "orders_external_id_sort_idx" ON "orders" USING btree (("external_id" IS NULL),coalesce("external_id", ''),"id");--> statement-breakpoint
CREATE INDEX "deals_status_sort_idx" ON "deals" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "deals_position_sort_idx" ON "deals" USING btree ("position","id");--> statement-breakpoint
CREATE INDEX "deals_amount_sort_idx" ON "deals" USING btree (("amount" IS NULL),coalesce("amount", 0),"id");--> statement-breakpoint
CREATE INDEX "deals_currency_sort_idx" ON "deals" USING btree (("currency" IS NULL),coalesce("currency", ''),"id");--> statement-breakpoint
CREATE INDEX "deals_close_date_sort_idx" ON "deals" USING btree (("expected_close_date" IS NULL),coalesce("expected_close_date", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX "deals_closed_at_sort_idx" ON "deals" USING btree (("closed_at" IS NULL),coalesce("closed_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX "tickets_subject_sort_idx" ON "tickets" USING btree ("subject","id");--> statement-breakpoint
CREATE INDEX "tickets_status_sort_idx" ON "tickets" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "tickets_priority_sort_idx" ON "tickets" USING btree ("priority","id");--> statement-breakpoint
CREATE INDEX "tickets_channel_sort_idx" ON "tickets" USING btree ("channel","id");--> statement-breakpoint
CREATE INDEX "tickets_satisfaction_sort_idx" ON "tickets" USING btree (("satisfaction_score" IS NULL),coalesce("satisfaction_score", 0),"id");--> statement-breakpoint
CREATE INDEX "tickets_first_response_due_sort_idx" ON "tickets" USING btree (("first_response_due_at" IS NULL),coalesce("first_response_due_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX "tickets_resolution_due_sort_idx" ON "tickets" USING btree (("resolution_due_at" IS NULL),coalesce("resolution_due_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX "tickets_first_responded_sort_idx" ON "tickets" USING btree (("first_responded_at" IS NULL),coalesce("first_responded_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX "tickets_solved_sort_idx" ON "tickets" USING btree (("solved_at" IS NULL),coalesce("solved_at", '-infinity'),"id");--> statement-breakpoint
CREATE INDEX "tickets_closed_sort_idx" ON "tickets" USING btree (("closed_at" IS NULL),coalesce("closed_at", '-infinity'),"id");