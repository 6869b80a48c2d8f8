CREATE TABLE `ai_chunks` (
	`id` text PRIMARY KEY NOT NULL,
	`document_id` text NOT NULL,
	`owner_id` text NOT NULL,
	`chunk` integer NOT NULL,
	`text` text NOT NULL,
	`embedding` text,
	FOREIGN KEY (`document_id`) REFERENCES `ai_documents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ai_chunks_owner_idx` ON `ai_chunks` (`owner_id`,`document_id`);--> statement-breakpoint
CREATE INDEX `ai_chunks_document_idx` ON `ai_chunks` (`document_id`,`chunk`);--> statement-breakpoint
CREATE TABLE `ai_documents` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`file_id` text NOT NULL,
	`status` text NOT NULL,
	`failure_reason` text,
	`chunk_count` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`file_id`) REFERENCES `files`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ai_documents_owner_idx` ON `ai_documents` (`owner_id`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `ai_documents_file_unique` ON `ai_documents` (`file_id`);--> statement-breakpoint
CREATE TABLE `ai_usage` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`role` text,
	`model` text NOT NULL,
	`endpoint` text NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`cost_micro_usd` integer NOT NULL,
	`latency_ms` integer NOT NULL,
	`ttfb_ms` integer,
	`outcome` text NOT NULL,
	`error_code` text,
	`request_id` text,
	`prompt` text,
	`completion` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ai_usage_created_idx` ON `ai_usage` (`created_at`);--> statement-breakpoint
CREATE INDEX `ai_usage_user_created_idx` ON `ai_usage` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `ai_usage_model_created_idx` ON `ai_usage` (`model`,`created_at`);--> statement-breakpoint
ALTER TABLE `roles` ADD `ai_daily_token_limit` integer;--> statement-breakpoint
ALTER TABLE `roles` ADD `ai_monthly_cost_limit_micro_usd` integer;