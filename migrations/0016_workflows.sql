CREATE TABLE "workflow_round_robin" (
	"workflow_id" uuid NOT NULL,
	"team_id" uuid NOT NULL,
	"last_user_id" uuid
);
--> statement-breakpoint
CREATE TABLE "workflow_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workflow_id" uuid NOT NULL,
	"event_id" uuid,
	"scheduled_for" timestamp (3) with time zone,
	"event_type" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"depth" integer DEFAULT 1 NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"results" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "workflows" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"name" text NOT NULL,
	"description" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"trigger" jsonb NOT NULL,
	"next_run_at" timestamp (3) with time zone,
	"conditions" jsonb,
	"actions" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "workflow_runs" ADD CONSTRAINT "workflow_runs_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_round_robin_key" ON "workflow_round_robin" USING btree ("workflow_id","team_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_runs_workflow_event_key" ON "workflow_runs" USING btree ("workflow_id","event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_runs_scheduled_key" ON "workflow_runs" USING btree ("workflow_id","scheduled_for","entity_id") WHERE "workflow_runs"."scheduled_for" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "workflow_runs_workflow_idx" ON "workflow_runs" USING btree ("workflow_id","created_at","id");--> statement-breakpoint
CREATE INDEX "workflow_runs_pending_idx" ON "workflow_runs" USING btree ("created_at") WHERE "workflow_runs"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "workflows_created_idx" ON "workflows" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "workflows_due_idx" ON "workflows" USING btree ("next_run_at") WHERE "workflows"."next_run_at" IS NOT NULL AND "workflows"."enabled" AND "workflows"."deleted_at" IS NULL;