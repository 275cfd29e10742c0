CREATE TABLE `flavor_projects` (
	`flavor_id` text NOT NULL,
	`project_id` text NOT NULL,
	PRIMARY KEY(`flavor_id`, `project_id`)
);
--> statement-breakpoint
CREATE TABLE `flavors` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`vcpus` integer NOT NULL,
	`memory_mb` integer NOT NULL,
	`root_gb` integer NOT NULL,
	`ephemeral_gb` integer DEFAULT 0 NOT NULL,
	`swap` integer DEFAULT 0 NOT NULL,
	`rxtx_factor` integer DEFAULT 1 NOT NULL,
	`is_public` integer DEFAULT true NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`description` text,
	`extra_specs` text DEFAULT '{}' NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `flavors_name` ON `flavors` (`name`);--> statement-breakpoint
CREATE TABLE `host_credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`host` text NOT NULL,
	`secret_hash` text NOT NULL,
	`description` text,
	`created_at` text NOT NULL,
	`revoked_at` text
);
--> statement-breakpoint
CREATE INDEX `host_credentials_host` ON `host_credentials` (`host`);--> statement-breakpoint
CREATE TABLE `instance_actions_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`action_id` integer NOT NULL,
	`event` text NOT NULL,
	`start_time` text NOT NULL,
	`finish_time` text,
	`result` text,
	`traceback` text,
	`host` text
);
--> statement-breakpoint
CREATE INDEX `instance_actions_events_action` ON `instance_actions_events` (`action_id`);--> statement-breakpoint
CREATE TABLE `instance_actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`action` text NOT NULL,
	`instance_uuid` text NOT NULL,
	`project_id` text NOT NULL,
	`user_id` text NOT NULL,
	`message` text,
	`start_time` text NOT NULL,
	`updated_at` text
);
--> statement-breakpoint
CREATE INDEX `instance_actions_instance` ON `instance_actions` (`instance_uuid`);--> statement-breakpoint
CREATE UNIQUE INDEX `instance_actions_request` ON `instance_actions` (`request_id`);--> statement-breakpoint
CREATE TABLE `instance_faults` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`instance_uuid` text NOT NULL,
	`code` integer NOT NULL,
	`message` text NOT NULL,
	`details` text DEFAULT '' NOT NULL,
	`host` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `instance_faults_instance` ON `instance_faults` (`instance_uuid`);--> statement-breakpoint
CREATE TABLE `instances` (
	`uuid` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`hostname` text NOT NULL,
	`description` text,
	`project_id` text NOT NULL,
	`user_id` text NOT NULL,
	`image_ref` text NOT NULL,
	`flavor_id` text NOT NULL,
	`flavor` text NOT NULL,
	`new_flavor` text,
	`vcpus` integer NOT NULL,
	`memory_mb` integer NOT NULL,
	`key_name` text,
	`key_data` text,
	`user_data` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`requested_zone` text,
	`availability_zone` text,
	`host` text,
	`node` text,
	`vm_state` text NOT NULL,
	`task_state` text,
	`power_state` integer DEFAULT 0 NOT NULL,
	`locked` integer DEFAULT false NOT NULL,
	`locked_by` text,
	`locked_reason` text,
	`reservation_id` text NOT NULL,
	`launch_index` integer DEFAULT 0 NOT NULL,
	`config_drive` text DEFAULT '' NOT NULL,
	`access_ip_v4` text DEFAULT '' NOT NULL,
	`access_ip_v6` text DEFAULT '' NOT NULL,
	`networks` text,
	`security_groups` text DEFAULT '[]' NOT NULL,
	`block_device_mapping` text DEFAULT '[]' NOT NULL,
	`addresses` text DEFAULT '{}' NOT NULL,
	`launched_at` text,
	`terminated_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `instances_project` ON `instances` (`project_id`,`deleted`);--> statement-breakpoint
CREATE INDEX `instances_host` ON `instances` (`host`,`deleted`);--> statement-breakpoint
CREATE INDEX `instances_updated` ON `instances` (`updated_at`);--> statement-breakpoint
CREATE TABLE `key_pairs` (
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text DEFAULT 'ssh' NOT NULL,
	`fingerprint` text NOT NULL,
	`public_key` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`user_id`, `name`)
);
--> statement-breakpoint
CREATE TABLE `quotas` (
	`project_id` text NOT NULL,
	`resource` text NOT NULL,
	`hard_limit` integer NOT NULL,
	PRIMARY KEY(`project_id`, `resource`)
);
--> statement-breakpoint
CREATE TABLE `instance_group_member` (
	`group_uuid` text NOT NULL,
	`instance_uuid` text NOT NULL,
	PRIMARY KEY(`group_uuid`, `instance_uuid`)
);
--> statement-breakpoint
CREATE INDEX `instance_group_member_instance` ON `instance_group_member` (`instance_uuid`);--> statement-breakpoint
CREATE TABLE `instance_groups` (
	`uuid` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`project_id` text NOT NULL,
	`user_id` text NOT NULL,
	`policy` text NOT NULL,
	`rules` text DEFAULT '{}' NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `instance_groups_project` ON `instance_groups` (`project_id`);--> statement-breakpoint
CREATE TABLE `services` (
	`id` text PRIMARY KEY NOT NULL,
	`host` text NOT NULL,
	`binary` text DEFAULT 'nova-compute' NOT NULL,
	`availability_zone` text DEFAULT 'nova' NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`disabled_reason` text,
	`forced_down` integer DEFAULT false NOT NULL,
	`last_seen_at` text,
	`up` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `services_host_binary` ON `services` (`host`,`binary`);