CREATE TABLE `application_credential` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`user_id` text NOT NULL,
	`project_id` text NOT NULL,
	`secret_hash` text NOT NULL,
	`description` text,
	`expires_at` text,
	`unrestricted` integer DEFAULT false NOT NULL,
	`role_ids` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `app_cred_user_name_unique` ON `application_credential` (`user_id`,`name`);--> statement-breakpoint
CREATE TABLE `assignment` (
	`actor_type` text NOT NULL,
	`actor_id` text NOT NULL,
	`target_type` text NOT NULL,
	`target_id` text NOT NULL,
	`role_id` text NOT NULL,
	`inherited` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`actor_type`, `actor_id`, `target_type`, `target_id`, `role_id`, `inherited`)
);
--> statement-breakpoint
CREATE INDEX `assignment_target` ON `assignment` (`target_type`,`target_id`);--> statement-breakpoint
CREATE INDEX `assignment_role` ON `assignment` (`role_id`);--> statement-breakpoint
CREATE TABLE `domain` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`extra` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `domain_name_unique` ON `domain` (`name`);--> statement-breakpoint
CREATE TABLE `endpoint` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`interface` text NOT NULL,
	`url` text NOT NULL,
	`region_id` text,
	`enabled` integer DEFAULT true NOT NULL,
	`extra` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `endpoint_service` ON `endpoint` (`service_id`);--> statement-breakpoint
CREATE TABLE `group` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`domain_id` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`extra` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `group_domain_name_unique` ON `group` (`domain_id`,`name`);--> statement-breakpoint
CREATE TABLE `implied_role` (
	`prior_role_id` text NOT NULL,
	`implied_role_id` text NOT NULL,
	PRIMARY KEY(`prior_role_id`, `implied_role_id`)
);
--> statement-breakpoint
CREATE TABLE `project_tag` (
	`project_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`project_id`, `tag`)
);
--> statement-breakpoint
CREATE TABLE `project` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`domain_id` text NOT NULL,
	`parent_id` text,
	`description` text DEFAULT '' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`extra` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `project_domain_name_unique` ON `project` (`domain_id`,`name`);--> statement-breakpoint
CREATE INDEX `project_parent` ON `project` (`parent_id`);--> statement-breakpoint
CREATE TABLE `region` (
	`id` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`parent_region_id` text,
	`extra` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE TABLE `role` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`domain_id` text DEFAULT '' NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`extra` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `role_domain_name_unique` ON `role` (`domain_id`,`name`);--> statement-breakpoint
CREATE TABLE `service` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`name` text,
	`description` text,
	`enabled` integer DEFAULT true NOT NULL,
	`extra` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE TABLE `user_group_membership` (
	`user_id` text NOT NULL,
	`group_id` text NOT NULL,
	PRIMARY KEY(`user_id`, `group_id`)
);
--> statement-breakpoint
CREATE INDEX `membership_group` ON `user_group_membership` (`group_id`);--> statement-breakpoint
CREATE TABLE `user` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`domain_id` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`password_hash` text,
	`password_expires_at` text,
	`default_project_id` text,
	`description` text,
	`email` text,
	`extra` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `user_domain_name_unique` ON `user` (`domain_id`,`name`);