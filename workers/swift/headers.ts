// Swift's header conventions: user metadata (X-<Type>-Meta-*), its limits, timestamps
// (X-Timestamp, Last-Modified, listing dates) and the request id every response carries.
import { badRequest } from '../../lib/errors';
import type { MetadataUpdate } from '../../durable-objects/swift-account';
import { byteLength, LIMITS } from './names';

export type MetadataKind = 'account' | 'container' | 'object';

/** Now as Swift's X-Timestamp: seconds with five decimals. */
export function swiftTimestamp(): string {
  return (Date.now() / 1000).toFixed(5);
}

/** Last-Modified: Swift rounds the timestamp up to whole seconds. */
export function httpDate(timestamp: string): string {
  return new Date(Math.ceil(Number(timestamp)) * 1000).toUTCString();
}

/** Listing dates: 2024-05-01T12:00:00.123450 (UTC, microseconds, no zone). */
export function listingDate(timestamp: string): string {
  const t = Number(timestamp);
  const whole = Math.floor(t);
  const micros = Math.round((t - whole) * 1e6).toString().padStart(6, '0');
  return `${new Date(whole * 1000).toISOString().slice(0, 19)}.${micros}`;
}

/** x-object-meta-color → X-Object-Meta-Color, as Swift writes header names. */
export function titleCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

export function requestId(): string {
  const rand = crypto.getRandomValues(new Uint8Array(11));
  const hex = [...rand].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `tx${hex}-${Math.floor(Date.now() / 1000).toString(16).padStart(10, '0')}`;
}

function checkMeta(prefix: string, entries: [string, string][]): void {
  let overall = 0;
  let count = 0;
  for (const [name, value] of entries) {
    const key = name.slice(prefix.length);
    if (!key) throw badRequest('Metadata name cannot be empty');
    if (byteLength(key) > LIMITS.maxMetaNameLength) throw badRequest(`Metadata name too long: ${name}; max ${LIMITS.maxMetaNameLength}`);
    if (byteLength(value) > LIMITS.maxMetaValueLength) throw badRequest(`Metadata value longer than ${LIMITS.maxMetaValueLength}: ${name}`);
    overall += byteLength(key) + byteLength(value);
    count += 1;
  }
  if (count > LIMITS.maxMetaCount) throw badRequest(`Too many metadata items; max ${LIMITS.maxMetaCount}`);
  if (overall > LIMITS.maxMetaOverallSize) throw badRequest(`Total metadata too large; max ${LIMITS.maxMetaOverallSize}`);
}

/**
 * Account or container metadata changes from request headers: X-<Type>-Meta-Name sets
 * (an empty value removes), X-Remove-<Type>-Meta-Name removes. Containers also keep
 * their ACL headers (X-Container-Read/Write) as given.
 */
export function metadataUpdate(headers: Headers, kind: 'account' | 'container'): MetadataUpdate {
  const prefix = `x-${kind}-meta-`;
  const removePrefix = `x-remove-${kind}-meta-`;
  const extras = kind === 'container' ? ['x-container-read', 'x-container-write'] : [];
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const [name, value] of headers) {
    if (name.startsWith(prefix) || extras.includes(name)) set[name] = value.trim();
    else if (name.startsWith(removePrefix)) remove.push(prefix + name.slice(removePrefix.length));
    else if (extras.some((e) => name === `x-remove-${e.slice(2)}`)) remove.push(`x-${name.slice('x-remove-'.length)}`);
  }
  checkMeta(prefix, Object.entries(set).filter(([n]) => n.startsWith(prefix)));
  return { set, remove };
}

/** An object's user metadata from request headers: X-Object-Meta-* (replaces all of it). */
export function objectMetadata(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) if (name.startsWith('x-object-meta-')) out[name] = value.trim();
  checkMeta('x-object-meta-', Object.entries(out));
  return out;
}

/** X-Delete-At / X-Delete-After as Unix seconds; undefined when neither is given. */
export function deleteAtOf(headers: Headers): number | undefined {
  const after = headers.get('x-delete-after');
  const at = headers.get('x-delete-at');
  const now = Date.now() / 1000;
  if (after !== null) {
    if (!/^\d+$/.test(after.trim())) throw badRequest('Non-integer X-Delete-After');
    return Math.ceil(now + Number(after));
  }
  if (at !== null) {
    if (!/^\d+(\.\d+)?$/.test(at.trim())) throw badRequest('Non-integer X-Delete-At');
    const value = Math.floor(Number(at));
    if (value <= now) throw badRequest('X-Delete-At in past');
    return value;
  }
  return undefined;
}
