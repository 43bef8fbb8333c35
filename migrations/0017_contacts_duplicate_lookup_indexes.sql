DROP INDEX "contacts_name_key_trgm_idx";--> statement-breakpoint
CREATE INDEX "contacts_additional_emails_idx" ON "contacts" USING gin ("additional_emails") WITH (fastupdate=off);--> statement-breakpoint
CREATE INDEX "contacts_additional_phones_idx" ON "contacts" USING gin ("additional_phones") WITH (fastupdate=off);--> statement-breakpoint
CREATE INDEX "contacts_name_key_trgm_idx" ON "contacts" USING gin ("name_key" gin_trgm_ops) WITH (gin_pending_list_limit=128);