ALTER TABLE "tickets" ADD COLUMN "business_calendar" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "business_first_response_minutes" integer;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "business_first_response_for" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "business_resolution_minutes" integer;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "business_resolution_for" timestamp (3) with time zone;