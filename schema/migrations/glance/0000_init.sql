CREATE TABLE `image_member` (
	`image_id` text NOT NULL,
	`member_id` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`image_id`, `member_id`)
);
--> statement-breakpoint
CREATE INDEX `image_member_member` ON `image_member` (`member_id`);--> statement-breakpoint
CREATE TABLE `image` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`status` text NOT NULL,
	`visibility` text NOT NULL,
	`protected` integer DEFAULT false NOT NULL,
	`os_hidden` integer DEFAULT false NOT NULL,
	`owner` text,
	`size` integer,
	`virtual_size` integer,
	`checksum` text,
	`os_hash_algo` text,
	`os_hash_value` text,
	`min_disk` integer DEFAULT 0 NOT NULL,
	`min_ram` integer DEFAULT 0 NOT NULL,
	`disk_format` text,
	`container_format` text,
	`properties` text DEFAULT '{}' NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`staged` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `image_owner` ON `image` (`owner`);--> statement-breakpoint
CREATE INDEX `image_visibility` ON `image` (`visibility`);--> statement-breakpoint
CREATE INDEX `image_created` ON `image` (`created_at`);