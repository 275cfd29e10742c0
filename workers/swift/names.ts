// Swift's paths and limits: /v1/<account>[/<container>[/<object>]], names checked as the
// proxy's constraints do (lengths in UTF-8 bytes, no NUL, container without '/').
import { ApiError, badRequest } from '../../lib/errors';

/** The limits /info advertises and the routes enforce (Swift's defaults, R2's where lower). */
export const LIMITS = {
  /** R2's largest single put (5 GiB - 5 MiB); Swift's default is 5 GiB + 2. */
  maxFileSize: 5_363_466_240,
  maxMetaNameLength: 128,
  maxMetaValueLength: 256,
  maxMetaCount: 90,
  /** R2 keeps at most 2 KiB of custom metadata per object, with Flarestack's own fields. */
  maxMetaOverallSize: 1536,
  maxHeaderSize: 8192,
  maxObjectNameLength: 1024,
  maxContainerNameLength: 256,
  maxAccountNameLength: 256,
  containerListingLimit: 10_000,
  accountListingLimit: 10_000,
} as const;

export interface SwiftPath {
  account: string;
  container?: string;
  object?: string;
}

const utf8 = new TextEncoder();
export const byteLength = (s: string) => utf8.encode(s).length;

function decode(raw: string): string {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    throw badRequest('Invalid UTF8 or contains NULL');
  }
  if (s.includes('\0')) throw badRequest('Invalid UTF8 or contains NULL');
  return s;
}

/**
 * Splits the path after /v1/ as Swift's split_path does: an empty container or object
 * (a trailing slash) means the level above.
 */
export function parseSwiftPath(rest: string): SwiftPath {
  const first = rest.indexOf('/');
  const account = decode(first < 0 ? rest : rest.slice(0, first));
  if (!account) throw badRequest('Invalid path: no account.');
  if (byteLength(account) > LIMITS.maxAccountNameLength) throw badRequest(`Account name length of ${byteLength(account)} longer than ${LIMITS.maxAccountNameLength}`);
  if (first < 0) return { account };
  const afterAccount = rest.slice(first + 1);
  const second = afterAccount.indexOf('/');
  const container = decode(second < 0 ? afterAccount : afterAccount.slice(0, second));
  if (!container) {
    if (second >= 0 && afterAccount.slice(second + 1)) throw badRequest('Invalid path: an object needs a container.');
    return { account };
  }
  checkContainerName(container);
  const object = second < 0 ? '' : decode(afterAccount.slice(second + 1));
  if (!object) return { account, container };
  checkObjectName(object);
  return { account, container, object };
}

export function checkContainerName(name: string): void {
  if (!name || name.includes('/')) throw badRequest(`Invalid container name: ${name || '(empty)'}`);
  const n = byteLength(name);
  if (n > LIMITS.maxContainerNameLength) throw badRequest(`Container name length of ${n} longer than ${LIMITS.maxContainerNameLength}`);
}

export function checkObjectName(name: string): void {
  const n = byteLength(name);
  if (!n) throw badRequest('Invalid object name: (empty)');
  if (n > LIMITS.maxObjectNameLength) throw badRequest(`Object name length of ${n} longer than ${LIMITS.maxObjectNameLength}`);
}

/**
 * "container/object" (X-Copy-From, Destination, SLO segment paths), URL-encoded, with or
 * without a leading slash.
 */
export function parseObjectRef(value: string, header: string): { container: string; object: string } {
  let v = value.trim();
  if (v.startsWith('/')) v = v.slice(1);
  const at = v.indexOf('/');
  if (at <= 0 || at === v.length - 1) throw new ApiError(412, `${header} header must be of the form <container name>/<object name>`);
  const container = decode(v.slice(0, at));
  const object = decode(v.slice(at + 1));
  checkContainerName(container);
  checkObjectName(object);
  return { container, object };
}
