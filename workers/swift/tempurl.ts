// Temporary URLs (swift/common/middleware/tempurl.py): an HMAC of method, expiry and
// object path under a key kept in account or container metadata grants one method on
// one object (or a prefix) until the expiry, with no token. Pure functions and WebCrypto.

export const TEMPURL_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const;
export const TEMPURL_DIGESTS = ['sha1', 'sha256', 'sha512'] as const;
export type TempUrlDigest = (typeof TEMPURL_DIGESTS)[number];
export type KeyScope = 'account' | 'container';

/** Headers a temp URL may not set on a write: they would point at data it does not grant. */
export const TEMPURL_DISALLOWED_HEADERS = ['x-object-manifest', 'x-symlink-target'];

export interface TempUrlParams {
  sig: string;
  /** Unix seconds; 0 when unparsable or already past (always invalid). */
  expires: number;
  prefix?: string;
  filename?: string;
  inline: boolean;
  ipRange?: string;
}

export interface ScopedKey {
  key: string;
  scope: KeyScope;
}

/** What /info advertises under "tempurl". */
export const TEMPURL_INFO = {
  methods: [...TEMPURL_METHODS],
  allowed_digests: [...TEMPURL_DIGESTS],
  incoming_remove_headers: ['x-timestamp'],
  incoming_allow_headers: [],
  outgoing_remove_headers: ['x-object-meta-*'],
  outgoing_allow_headers: ['x-object-meta-public-*'],
};

/** Unix seconds, or %Y-%m-%dT%H:%M:%SZ; 0 when neither. */
export function parseExpires(value: string): number {
  if (/^[+-]?\d+$/.test(value.trim())) return Number.parseInt(value.trim(), 10);
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(value);
  if (!m) return 0;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  // strptime refuses 2024-02-30; Date.UTC would roll it over.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 61) return 0;
  return Math.floor(t / 1000);
}

/**
 * The temp URL parameters of a query, null when it carries neither temp_url_sig nor
 * temp_url_expires (not a temp URL request), 'invalid' when only one is there or the URL expired.
 */
export function tempUrlParams(query: URLSearchParams, nowSeconds: number): TempUrlParams | 'invalid' | null {
  const sig = query.get('temp_url_sig');
  const rawExpires = query.get('temp_url_expires');
  if (sig === null && rawExpires === null) return null;
  let expires = rawExpires === null ? 0 : parseExpires(rawExpires);
  if (expires < nowSeconds) expires = 0;
  if (!sig || !expires) return 'invalid';
  return {
    sig,
    expires,
    prefix: query.get('temp_url_prefix') ?? undefined,
    filename: query.get('filename') ?? undefined,
    inline: query.has('inline'),
    ipRange: query.get('temp_url_ip_range') ?? undefined,
  };
}

const HEX = /^[0-9a-fA-F]*$/;

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function strictBase64(text: string): Uint8Array | null {
  const body = text.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(body) || body.length % 4 === 1) return null;
  const bin = atob(body + '==='.slice((body.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * The digest and lower-case hex form of a signature: `<digest>:<base64>` (url-safe or
 * standard, padding optional), or 40 hex digits (sha1) or 64 (sha256). Null otherwise.
 */
export function normalizeSignature(sig: string): { digest: TempUrlDigest; hex: string } | null {
  const colon = sig.indexOf(':');
  if (colon >= 0) {
    const digest = sig.slice(0, colon);
    let b64 = sig.slice(colon + 1);
    if ((b64.includes('-') || b64.includes('_')) && !(b64.includes('+') || b64.includes('/'))) {
      b64 = b64.replace(/-/g, '+').replace(/_/g, '/');
    }
    if (!(TEMPURL_DIGESTS as readonly string[]).includes(digest)) return null;
    const bytes = strictBase64(b64);
    return bytes ? { digest: digest as TempUrlDigest, hex: toHex(bytes) } : null;
  }
  // Swift compares hex as given: an upper-case digest never matches hexdigest().
  if (!HEX.test(sig)) return null;
  if (sig.length === 40) return { digest: 'sha1', hex: sig };
  if (sig.length === 64) return { digest: 'sha256', hex: sig };
  return null;
}

const ALGORITHMS: Record<TempUrlDigest, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };
const enc = new TextEncoder();

export async function hmacHex(digest: TempUrlDigest, key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', enc.encode(key), { name: 'HMAC', hash: ALGORITHMS[digest] }, false, ['sign']);
  return toHex(new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(message))));
}

/** What is signed: [ip=RANGE\n]METHOD\nEXPIRES\nPATH (swift.common.utils.get_hmac). */
export function hmacBody(method: string, expires: number, path: string, ipRange?: string): string {
  return `${ipRange ? `ip=${ipRange}\n` : ''}${method}\n${expires}\n${path}`;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Temp URL keys in account or container metadata (lower-case header names or bare names). */
export function keysFromMetadata(meta: Record<string, string> | undefined, scope: KeyScope): ScopedKey[] {
  const keys: ScopedKey[] = [];
  for (const [name, value] of Object.entries(meta ?? {})) {
    const n = name.toLowerCase().replace(/^x-(account|container)-meta-/, '');
    if ((n === 'temp-url-key' || n === 'temp-url-key-2') && value) keys.push({ key: value, scope });
  }
  return keys;
}

function ipv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Whether address is in range (an address, or IPv4 CIDR). IPv6 ranges match exactly only. */
export function ipInRange(address: string, range: string): boolean {
  const [net, bitsText] = range.split('/');
  if (net === undefined) return false;
  const a = ipv4(address);
  const n = ipv4(net);
  if (a === null || n === null) return bitsText === undefined && address.toLowerCase() === net.toLowerCase();
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  if (bits === 0) return true;
  const size = 2 ** (32 - bits);
  // ip_network refuses a network with host bits set.
  if (n % size !== 0) return false;
  return Math.floor(a / size) === n / size;
}

export interface VerifyInput {
  method: string;
  account: string;
  container: string;
  object: string;
  params: TempUrlParams;
  keys: ScopedKey[];
  /**
   * The path prefixes the signature may have been made over, before /v1/...: '' for the
   * Swift path, and the service prefix (/object-storage) for a full storage-URL path.
   */
  mounts?: string[];
  clientAddress?: string;
}

/** The scope of the key that signed the URL, or null when the URL is not valid. */
export async function verifyTempUrl(input: VerifyInput): Promise<KeyScope | null> {
  const { params } = input;
  const sig = normalizeSignature(params.sig);
  if (!sig) return null;
  if (!(TEMPURL_METHODS as readonly string[]).includes(input.method)) return null;
  if (!input.object.replace(/^\/+|\/+$/g, '')) return null;
  if (params.ipRange) {
    if (!input.clientAddress || !ipInRange(input.clientAddress, params.ipRange)) return null;
  }
  if (input.keys.length === 0) return null;
  if (params.prefix !== undefined && !input.object.startsWith(params.prefix)) return null;
  const rest =
    params.prefix === undefined
      ? `/v1/${input.account}/${input.container}/${input.object}`
      : `/v1/${input.account}/${input.container}/${params.prefix}`;
  // HEAD passes with a signature for any method that would allow reading the object.
  const methods = input.method === 'HEAD' ? ['HEAD', 'GET', 'POST', 'PUT'] : [input.method];
  for (const mount of input.mounts ?? ['']) {
    const path = `${params.prefix === undefined ? '' : 'prefix:'}${mount}${rest}`;
    for (const method of methods) {
      const body = hmacBody(method, params.expires, path, params.ipRange);
      for (const { key, scope } of input.keys) {
        if (constantTimeEqual(sig.hex, await hmacHex(sig.digest, key, body))) return scope;
      }
    }
  }
  return null;
}

// Python's urllib.parse.quote: unreserved characters and `safe` stay, the rest is UTF-8 %XX.
export function pyQuote(text: string, safe = '/'): string {
  let out = '';
  for (const byte of enc.encode(text)) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.\-~]/.test(ch) || (byte < 128 && safe.includes(ch))) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function dispositionFormat(type: string, filename: string): string {
  return `${type}; filename="${pyQuote(filename, ' /')}"; filename*=UTF-8''${pyQuote(filename)}`;
}

/**
 * Content-Disposition of a successful GET/HEAD through a temp URL: inline or attachment,
 * named by the filename parameter, else the object's own disposition, else its base name.
 */
export function tempUrlDisposition(params: Pick<TempUrlParams, 'filename' | 'inline'>, objectPath: string, existing?: string | null): string {
  let value: string;
  if (params.inline) value = params.filename ? dispositionFormat('inline', params.filename) : 'inline';
  else if (params.filename) value = dispositionFormat('attachment', params.filename);
  else if (existing) value = existing;
  else {
    const trimmed = objectPath.replace(/\/+$/, '');
    value = dispositionFormat('attachment', trimmed.slice(trimmed.lastIndexOf('/') + 1));
  }
  return value.replace(/\n/g, '%0A');
}

/** Whether an outgoing header is stripped from temp URL responses (object metadata but public-*). */
export function strippedOutgoing(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('x-object-meta-') && !n.startsWith('x-object-meta-public-');
}
