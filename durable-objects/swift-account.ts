// One Swift account: its containers and the listing of their objects, in this object's
// SQLite storage. Every write to an account goes through here, so counts stay exact.
// Small objects live here whole (data and metadata beside their listing row), so one
// call writes or reads them; larger ones keep data and metadata in R2.
import { DurableObject } from 'cloudflare:workers';
import { deleteStripes, stripesOf } from '../workers/swift/stripes';

interface Env {
  OBJECTS: R2Bucket;
}

/** Listing options, already validated by the Worker. */
export interface ListQuery {
  prefix: string;
  delimiter: string;
  marker: string;
  endMarker: string;
  limit: number;
  reverse: boolean;
}

export interface Subdir {
  subdir: string;
}

export interface ContainerEntry {
  name: string;
  count: number;
  bytes: number;
  /** X-Timestamp form (seconds, 5 decimals). */
  last_modified: string;
}

export interface ObjectEntry {
  name: string;
  hash: string;
  bytes: number;
  content_type: string;
  last_modified: string;
}

export interface AccountInfo {
  exists: boolean;
  timestamp: string;
  /** Lower-case header names: x-account-meta-*. */
  metadata: Record<string, string>;
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
}

export interface ContainerRecord {
  name: string;
  timestamp: string;
  putTimestamp: string;
  /** Lower-case header names: x-container-meta-*, x-container-read, x-container-write. */
  metadata: Record<string, string>;
  objectCount: number;
  bytesUsed: number;
}

export interface ObjectRecord {
  name: string;
  bytes: number;
  etag: string;
  contentType: string;
  timestamp: string;
  /** Unix seconds; null when the object does not expire. */
  deleteAt: number | null;
  /** The R2 key of its data (stripes.ts: the stripes' key, for a striped object). */
  key: string;
}

/** What recordObject did; see there. */
export interface RecordResult {
  recorded: boolean;
  replaced: string | null;
  superseded: boolean;
}

/** An object held here whole: its bytes and its metadata (lower-case names, x-timestamp included). */
export interface InlineData {
  /** Empty when read without the bytes (a HEAD); size says how many there are. */
  data: Uint8Array;
  size: number;
  metadata: Record<string, string>;
}

/** What a read finds: the listing record, and the object itself when it is held here. */
export interface ObjectRead {
  record: ObjectRecord;
  inline?: InlineData;
}

/** A metadata change: values to set, names to remove (lower-case header names). */
export interface MetadataUpdate {
  set: Record<string, string>;
  remove: string[];
}

type Row = Record<string, SqlStorageValue>;
interface Bound {
  value: string;
  inclusive: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS account (id INTEGER PRIMARY KEY CHECK (id = 1), timestamp TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS containers (
  name TEXT PRIMARY KEY, timestamp TEXT NOT NULL, put_timestamp TEXT NOT NULL, metadata TEXT NOT NULL,
  object_count INTEGER NOT NULL DEFAULT 0, bytes_used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS objects (
  container TEXT NOT NULL, name TEXT NOT NULL, bytes INTEGER NOT NULL, etag TEXT NOT NULL,
  content_type TEXT NOT NULL, timestamp TEXT NOT NULL, delete_at INTEGER, r2_key TEXT NOT NULL,
  PRIMARY KEY (container, name));
CREATE INDEX IF NOT EXISTS objects_delete_at ON objects (delete_at) WHERE delete_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS object_data (
  container TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL, metadata TEXT NOT NULL,
  PRIMARY KEY (container, name));
`;

function applyUpdate(current: Record<string, string>, update: MetadataUpdate): Record<string, string> {
  const next = { ...current };
  for (const name of update.remove) delete next[name];
  for (const [name, value] of Object.entries(update.set)) {
    if (value === '') delete next[name];
    else next[name] = value;
  }
  return next;
}

/** The smallest string greater than every string that starts with s. */
function successor(s: string): string {
  return s.slice(0, -1) + String.fromCharCode(s.charCodeAt(s.length - 1) + 1);
}

const nowSeconds = () => Date.now() / 1000;

export class SwiftAccount extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  private rows(query: string, ...params: SqlStorageValue[]): Row[] {
    return this.sql.exec(query, ...params).toArray() as Row[];
  }

  // --- account ---

  getAccountInfo(): AccountInfo {
    const row = this.rows('SELECT timestamp, metadata FROM account WHERE id = 1')[0];
    const totals = this.rows('SELECT COUNT(*) AS n, COALESCE(SUM(object_count), 0) AS o, COALESCE(SUM(bytes_used), 0) AS b FROM containers')[0]!;
    return {
      exists: row !== undefined,
      timestamp: row ? String(row.timestamp) : nowSeconds().toFixed(5),
      metadata: row ? (JSON.parse(String(row.metadata)) as Record<string, string>) : {},
      containerCount: Number(totals.n),
      objectCount: Number(totals.o),
      bytesUsed: Number(totals.b),
    };
  }

  /** Swift creates an account on its owner's first write. */
  private ensureAccount(timestamp: string): Record<string, string> {
    const row = this.rows('SELECT metadata FROM account WHERE id = 1')[0];
    if (row) return JSON.parse(String(row.metadata)) as Record<string, string>;
    this.sql.exec('INSERT INTO account (id, timestamp, metadata) VALUES (1, ?, ?)', timestamp, '{}');
    return {};
  }

  updateAccountMetadata(update: MetadataUpdate, timestamp: string): AccountInfo {
    const metadata = applyUpdate(this.ensureAccount(timestamp), update);
    this.sql.exec('UPDATE account SET metadata = ? WHERE id = 1', JSON.stringify(metadata));
    return this.getAccountInfo();
  }

  listContainers(q: ListQuery): (ContainerEntry | Subdir)[] {
    return this.page(q, (where, params, order, limit) =>
      this.rows(
        `SELECT name, object_count, bytes_used, put_timestamp FROM containers ${where} ORDER BY name ${order} LIMIT ?`,
        ...params, limit,
      ).map((r) => ({ name: String(r.name), count: Number(r.object_count), bytes: Number(r.bytes_used), last_modified: String(r.put_timestamp) })),
    );
  }

  // --- containers ---

  /** Creates the container, or updates its metadata when it exists. */
  putContainer(name: string, update: MetadataUpdate, timestamp: string): { created: boolean } {
    return this.ctx.storage.transactionSync(() => {
      this.ensureAccount(timestamp);
      const row = this.rows('SELECT metadata FROM containers WHERE name = ?', name)[0];
      if (row) {
        const metadata = applyUpdate(JSON.parse(String(row.metadata)) as Record<string, string>, update);
        this.sql.exec('UPDATE containers SET metadata = ?, put_timestamp = ? WHERE name = ?', JSON.stringify(metadata), timestamp, name);
        return { created: false };
      }
      this.sql.exec(
        'INSERT INTO containers (name, timestamp, put_timestamp, metadata) VALUES (?, ?, ?, ?)',
        name, timestamp, timestamp, JSON.stringify(applyUpdate({}, update)),
      );
      return { created: true };
    });
  }

  getContainer(name: string): ContainerRecord | null {
    const r = this.rows('SELECT * FROM containers WHERE name = ?', name)[0];
    if (!r) return null;
    return {
      name,
      timestamp: String(r.timestamp),
      putTimestamp: String(r.put_timestamp),
      metadata: JSON.parse(String(r.metadata)) as Record<string, string>,
      objectCount: Number(r.object_count),
      bytesUsed: Number(r.bytes_used),
    };
  }

  updateContainerMetadata(name: string, update: MetadataUpdate): boolean {
    const row = this.rows('SELECT metadata FROM containers WHERE name = ?', name)[0];
    if (!row) return false;
    const metadata = applyUpdate(JSON.parse(String(row.metadata)) as Record<string, string>, update);
    this.sql.exec('UPDATE containers SET metadata = ? WHERE name = ?', JSON.stringify(metadata), name);
    return true;
  }

  async deleteContainer(name: string): Promise<'deleted' | 'not_found' | 'not_empty'> {
    await this.expireObjects(name);
    return this.ctx.storage.transactionSync(() => {
      const row = this.rows('SELECT object_count FROM containers WHERE name = ?', name)[0];
      if (!row) return 'not_found';
      if (Number(row.object_count) > 0) return 'not_empty';
      this.sql.exec('DELETE FROM containers WHERE name = ?', name);
      return 'deleted';
    });
  }

  // --- objects ---

  /** The listing of a container; null when the container does not exist. */
  listObjects(container: string, q: ListQuery): (ObjectEntry | Subdir)[] | null {
    if (!this.rows('SELECT 1 FROM containers WHERE name = ?', container).length) return null;
    const now = Math.floor(nowSeconds());
    return this.page(q, (where, params, order, limit) =>
      this.rows(
        `SELECT name, etag, bytes, content_type, timestamp FROM objects
         ${where ? `${where} AND` : 'WHERE'} container = ? AND (delete_at IS NULL OR delete_at > ?) ORDER BY name ${order} LIMIT ?`,
        ...params, container, now, limit,
      ).map((r) => ({
        name: String(r.name), hash: String(r.etag), bytes: Number(r.bytes),
        content_type: String(r.content_type), last_modified: String(r.timestamp),
      })),
    );
  }

  /**
   * An object's record, with its bytes and metadata when held here (withData false leaves
   * the bytes out, for a HEAD); null when it does not exist or has expired.
   */
  readObject(container: string, name: string, withData: boolean): ObjectRead | null {
    const r = this.rows(
      `SELECT o.*, d.metadata AS inline_metadata, length(d.data) AS inline_size${withData ? ', d.data AS inline_data' : ''}
       FROM objects o LEFT JOIN object_data d ON d.container = o.container AND d.name = o.name
       WHERE o.container = ? AND o.name = ?`,
      container, name,
    )[0];
    if (!r) return null;
    const record = this.objectOf(r);
    if (record.deleteAt !== null && record.deleteAt <= nowSeconds()) return null;
    if (r.inline_metadata === null) return { record };
    const data = withData ? new Uint8Array(r.inline_data as ArrayBuffer) : new Uint8Array(0);
    return { record, inline: { data, size: Number(r.inline_size), metadata: JSON.parse(String(r.inline_metadata)) as Record<string, string> } };
  }

  /**
   * Records a written object in the listing and the counts, with its bytes and metadata
   * when it is held here (else its data is in R2 at o.key). recorded is false when the
   * container is gone (the caller then removes the data); an older write never replaces
   * a newer one (superseded). replaced is the R2 key of the version replaced, when its
   * data was in R2: each version is replaced once, so one writer removes its data.
   */
  async recordObject(container: string, o: ObjectRecord, inline?: InlineData): Promise<RecordResult> {
    const result = this.ctx.storage.transactionSync((): RecordResult => {
      if (!this.rows('SELECT 1 FROM containers WHERE name = ?', container).length) return { recorded: false, replaced: null, superseded: false };
      const old = this.rows(
        `SELECT o.bytes, o.timestamp, o.r2_key, d.name IS NOT NULL AS inline FROM objects o
         LEFT JOIN object_data d ON d.container = o.container AND d.name = o.name WHERE o.container = ? AND o.name = ?`,
        container, o.name,
      )[0];
      if (old && Number(old.timestamp) > Number(o.timestamp)) return { recorded: true, replaced: null, superseded: true };
      this.sql.exec(
        `INSERT OR REPLACE INTO objects (container, name, bytes, etag, content_type, timestamp, delete_at, r2_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        container, o.name, o.bytes, o.etag, o.contentType, o.timestamp, o.deleteAt, o.key,
      );
      if (inline) {
        this.sql.exec(
          'INSERT OR REPLACE INTO object_data (container, name, data, metadata) VALUES (?, ?, ?, ?)',
          container, o.name, inline.data, JSON.stringify(inline.metadata),
        );
      } else if (old && Number(old.inline)) {
        this.sql.exec('DELETE FROM object_data WHERE container = ? AND name = ?', container, o.name);
      }
      this.sql.exec(
        'UPDATE containers SET object_count = object_count + ?, bytes_used = bytes_used + ? WHERE name = ?',
        old ? 0 : 1, o.bytes - (old ? Number(old.bytes) : 0), container,
      );
      return { recorded: true, replaced: old !== undefined && !Number(old.inline) ? String(old.r2_key) : null, superseded: false };
    });
    if (result.recorded && o.deleteAt !== null) await this.scheduleExpiry(o.deleteAt);
    return result;
  }

  /** Drops an object from the listing; returns what was there and whether it was held here. */
  removeObject(container: string, name: string): { record: ObjectRecord; inline: boolean } | null {
    return this.ctx.storage.transactionSync(() => this.drop(container, name));
  }

  private drop(container: string, name: string): { record: ObjectRecord; inline: boolean } | null {
    const r = this.rows('SELECT * FROM objects WHERE container = ? AND name = ?', container, name)[0];
    if (!r) return null;
    this.sql.exec('DELETE FROM objects WHERE container = ? AND name = ?', container, name);
    const inline = this.sql.exec('DELETE FROM object_data WHERE container = ? AND name = ?', container, name).rowsWritten > 0;
    this.sql.exec(
      'UPDATE containers SET object_count = object_count - 1, bytes_used = bytes_used - ? WHERE name = ?',
      Number(r.bytes), container,
    );
    return { record: this.objectOf(r), inline };
  }

  // --- expiry (X-Delete-At): the alarm reaps what is due; reads already hide it ---

  private async scheduleExpiry(deleteAt: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > deleteAt * 1000) await this.ctx.storage.setAlarm(deleteAt * 1000);
  }

  /**
   * Swift's asynchronous SLO delete: these objects expire now, as the segments the
   * object-expirer is handed do. Reads stop seeing them at once; the alarm reaps them.
   */
  async expireNow(container: string, names: string[]): Promise<number> {
    const now = Math.floor(nowSeconds());
    const marked = this.ctx.storage.transactionSync(() =>
      names.reduce((n, name) => n + this.sql.exec('UPDATE objects SET delete_at = ? WHERE container = ? AND name = ?', now, container, name).rowsWritten, 0),
    );
    if (marked > 0) await this.scheduleExpiry(now);
    return marked;
  }

  /** Removes expired objects (of one container, or all) from the listing and from R2. */
  async expireObjects(container?: string): Promise<number> {
    const now = Math.floor(nowSeconds());
    const due = this.ctx.storage.transactionSync(() => {
      const rows = container === undefined
        ? this.rows('SELECT * FROM objects WHERE delete_at IS NOT NULL AND delete_at <= ? LIMIT 1000', now)
        : this.rows('SELECT * FROM objects WHERE container = ? AND delete_at IS NOT NULL AND delete_at <= ?', container, now);
      return rows.map((r) => this.drop(String(r.container), String(r.name)));
    });
    // Objects held here went with their rows; R2 data goes now.
    for (const { record: o } of due.filter((d): d is { record: ObjectRecord; inline: boolean } => d !== null && !d.inline)) {
      // Stripes are never shared with another version.
      const stripes = stripesOf(o.key);
      if (stripes) {
        await deleteStripes(this.env.OBJECTS, stripes);
        continue;
      }
      // A newer write under the same key may have replaced the expiring data meanwhile:
      // only data that expired itself, or is the version the row described, goes.
      const head = await this.env.OBJECTS.head(o.key);
      const at = head?.customMetadata?.['x-delete-at'];
      const same = head?.customMetadata?.['x-timestamp'] === o.timestamp;
      if (head && ((at !== undefined && Number(at) <= now) || same)) await this.env.OBJECTS.delete(o.key);
    }
    return due.length;
  }

  override async alarm(): Promise<void> {
    await this.expireObjects();
    const next = this.rows('SELECT MIN(delete_at) AS at FROM objects WHERE delete_at IS NOT NULL')[0]?.at;
    if (next !== null && next !== undefined) await this.ctx.storage.setAlarm(Math.max(Number(next) * 1000, Date.now() + 1000));
  }

  private objectOf(r: Row): ObjectRecord {
    return {
      name: String(r.name), bytes: Number(r.bytes), etag: String(r.etag), contentType: String(r.content_type),
      timestamp: String(r.timestamp), deleteAt: r.delete_at === null ? null : Number(r.delete_at), key: String(r.r2_key),
    };
  }

  /**
   * Swift's listing walk: names in byte order (SQLite's BINARY collation on UTF-8), from
   * marker to end_marker (swapped when reversed), under prefix; with a delimiter, names
   * below the next delimiter collapse into one subdir entry and the walk skips past them.
   */
  private page<T extends { name: string }>(
    q: ListQuery,
    select: (where: string, params: SqlStorageValue[], order: 'ASC' | 'DESC', limit: number) => T[],
  ): (T | Subdir)[] {
    const out: (T | Subdir)[] = [];
    let lower: Bound | undefined = q.marker && !q.reverse ? { value: q.marker, inclusive: false } : undefined;
    let upper: Bound | undefined = q.endMarker && !q.reverse ? { value: q.endMarker, inclusive: false } : undefined;
    if (q.reverse) {
      if (q.marker) upper = { value: q.marker, inclusive: false };
      if (q.endMarker) lower = { value: q.endMarker, inclusive: false };
    }
    while (out.length < q.limit) {
      const clauses: string[] = [];
      const params: SqlStorageValue[] = [];
      if (lower) clauses.push(`name ${lower.inclusive ? '>=' : '>'} ?`), params.push(lower.value);
      if (upper) clauses.push(`name ${upper.inclusive ? '<=' : '<'} ?`), params.push(upper.value);
      if (q.prefix) clauses.push('name >= ? AND instr(name, ?) = 1'), params.push(q.prefix, q.prefix);
      const want = q.limit - out.length;
      const rows = select(clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params, q.reverse ? 'DESC' : 'ASC', want);
      let skipped = false;
      for (const row of rows) {
        const at = q.delimiter ? row.name.indexOf(q.delimiter, q.prefix.length) : -1;
        if (at >= 0) {
          const dir = row.name.slice(0, at + q.delimiter.length);
          if (dir !== q.marker) out.push({ subdir: dir });
          if (q.reverse) upper = { value: dir, inclusive: false };
          else lower = { value: successor(dir), inclusive: true };
          skipped = true;
          break;
        }
        out.push(row);
        if (q.reverse) upper = { value: row.name, inclusive: false };
        else lower = { value: row.name, inclusive: false };
      }
      if (!skipped && rows.length < want) break;
    }
    return out;
  }
}
