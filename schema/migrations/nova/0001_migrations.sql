CREATE TABLE `migrations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`uuid` text NOT NULL,
	`source_compute` text,
	`dest_compute` text,
	`source_node` text,
	`dest_node` text,
	`dest_host` text,
	`old_instance_type_id` text,
	`new_instance_type_id` text,
	`instance_uuid` text NOT NULL,
	`status` text NOT NULL,
	`migration_type` text NOT NULL,
	`hidden` integer DEFAULT false NOT NULL,
	`memory_total` integer,
	`memory_processed` integer,
	`memory_remaining` integer,
	`disk_total` integer,
	`disk_processed` integer,
	`disk_remaining` integer,
	`project_id` text,
	`user_id` text,
	`created_at` text NOT NULL,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `migrations_uuid` ON `migrations` (`uuid`);--> statement-breakpoint
CREATE INDEX `migrations_instance` ON `migrations` (`instance_uuid`,`status`);--> statement-breakpoint
CREATE INDEX `migrations_created` ON `migrations` (`created_at`,`id`);