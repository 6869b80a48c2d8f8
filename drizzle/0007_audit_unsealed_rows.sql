PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_audit_logs` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL,
	`action` text NOT NULL,
	`actor_user_id` text,
	`actor_ip` text,
	`actor_user_agent` text,
	`request_id` text,
	`session_id` text,
	`target_type` text,
	`target_id` text,
	`changes` text,
	`prev_hash` text,
	`hash` text
);
--> statement-breakpoint
INSERT INTO `__new_audit_logs`("seq", "id", "created_at", "action", "actor_user_id", "actor_ip", "actor_user_agent", "request_id", "session_id", "target_type", "target_id", "changes", "prev_hash", "hash") SELECT "seq", "id", "created_at", "action", "actor_user_id", "actor_ip", "actor_user_agent", "request_id", "session_id", "target_type", "target_id", "changes", "prev_hash", "hash" FROM `audit_logs`;--> statement-breakpoint
DROP TABLE `audit_logs`;--> statement-breakpoint
ALTER TABLE `__new_audit_logs` RENAME TO `audit_logs`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_logs_id_unique` ON `audit_logs` (`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_actor_idx` ON `audit_logs` (`actor_user_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_logs_target_idx` ON `audit_logs` (`target_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_logs_action_idx` ON `audit_logs` (`action`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_logs_unsealed_idx` ON `audit_logs` (`seq`) WHERE "audit_logs"."hash" is null;