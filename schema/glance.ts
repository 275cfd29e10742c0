// The glance D1 database: image records, their members. Image data lives in Swift.
// drizzle-kit generates the migrations under schema/migrations/glance from this file.
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** What a glance-direct staging left behind, until the import makes the image active. */
export interface StagedData {
  size: number;
  checksum: string;
  hashValue: string;
}

export const images = sqliteTable(
  'image',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    status: text('status').notNull(),
    visibility: text('visibility').notNull(),
    protected: integer('protected', { mode: 'boolean' }).notNull().default(false),
    osHidden: integer('os_hidden', { mode: 'boolean' }).notNull().default(false),
    owner: text('owner'),
    size: integer('size'),
    virtualSize: integer('virtual_size'),
    checksum: text('checksum'),
    osHashAlgo: text('os_hash_algo'),
    osHashValue: text('os_hash_value'),
    minDisk: integer('min_disk').notNull().default(0),
    minRam: integer('min_ram').notNull().default(0),
    diskFormat: text('disk_format'),
    containerFormat: text('container_format'),
    /** Custom properties: string values, as Glance's schema requires. */
    properties: text('properties', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    /** A JSON array, so list filters can ask json_each for a tag. */
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull().default([]),
    staged: text('staged', { mode: 'json' }).$type<StagedData>(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('image_owner').on(t.owner), index('image_visibility').on(t.visibility), index('image_created').on(t.createdAt)],
);

export const imageMembers = sqliteTable(
  'image_member',
  {
    imageId: text('image_id').notNull(),
    memberId: text('member_id').notNull(),
    status: text('status').notNull().default('pending'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.memberId] }), index('image_member_member').on(t.memberId)],
);
