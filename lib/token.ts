// Self-contained tokens in the spirit of Keystone's Fernet tokens: the payload is
// sealed with AES-256-GCM (authenticated encryption) under a key set that rotates.
// The first key signs new tokens; every key in the set still opens tokens, so a
// rotation (new key first, old keys kept until their tokens expire) logs no one out.

export interface NamedRef {
  id: string;
  name: string;
}
export interface ScopedRef extends NamedRef {
  domain: NamedRef;
}

/** What a token asserts. Roles are the effective roles, implied roles included. */
export interface TokenPayload {
  user: ScopedRef;
  methods: string[];
  /** Milliseconds since the epoch: revocation compares issue times finer than a second. */
  issuedAt: number;
  expiresAt: number;
  auditIds: string[];
  project?: ScopedRef & { isDomain?: boolean };
  domain?: NamedRef;
  system?: boolean;
  roles: NamedRef[];
  applicationCredential?: { id: string; name: string; restricted: boolean };
}

export interface TokenKey {
  id: number;
  key: CryptoKey;
}

const VERSION = 0x46; // 'F'
const SECRET_VERSION = 0x53; // 'S'
const enc = new TextEncoder();
const dec = new TextDecoder();

export function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Parses the key set as stored in the TOKEN_KEYS secret: a JSON array of base64url
 * 32-byte keys, primary first. Fails loudly at start-up when the secret is malformed.
 */
export async function importKeySet(secret: string | undefined): Promise<TokenKey[]> {
  if (!secret) throw new Error('TOKEN_KEYS is not set');
  const raw: unknown = JSON.parse(secret);
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('TOKEN_KEYS must be a non-empty JSON array');
  return Promise.all(
    raw.map(async (k, i) => {
      const bytes = typeof k === 'string' ? fromBase64url(k) : null;
      if (!bytes || bytes.length !== 32) throw new Error(`TOKEN_KEYS[${i}] is not a 32-byte base64url key`);
      const key = await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
      return { id: keyId(bytes), key };
    }),
  );
}

// A short fingerprint of the key lets the opener pick the key instead of trying them all.
function keyId(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function generateKey(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** AES-256-GCM under the first key; the header (version, key id) is authenticated too. */
async function seal(keys: TokenKey[], version: number, plain: Uint8Array): Promise<string> {
  const primary = keys[0];
  if (!primary) throw new Error('empty key set');
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const header = new Uint8Array(5);
  header[0] = version;
  new DataView(header.buffer).setUint32(1, primary.id);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, primary.key, plain));
  const out = new Uint8Array(header.length + iv.length + sealed.length);
  out.set(header, 0);
  out.set(iv, header.length);
  out.set(sealed, header.length + iv.length);
  return base64url(out);
}

/** The plain bytes; null when malformed, tampered with, of another version, or sealed by an unknown key. */
async function open(keys: TokenKey[], version: number, text: string): Promise<Uint8Array | null> {
  if (text.length > 8192) return null;
  const bytes = fromBase64url(text);
  if (!bytes || bytes.length < 5 + 12 + 16 || bytes[0] !== version) return null;
  const id = new DataView(bytes.buffer, bytes.byteOffset).getUint32(1);
  const key = keys.find((k) => k.id === id);
  if (!key) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(5, 17), additionalData: bytes.subarray(0, 5) },
      key.key,
      bytes.subarray(17),
    );
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}

export function sealToken(keys: TokenKey[], payload: TokenPayload): Promise<string> {
  return seal(keys, VERSION, enc.encode(JSON.stringify(payload)));
}

/** Opens a token; null when it is malformed, tampered with, or sealed by an unknown key. */
export async function openToken(keys: TokenKey[], token: string): Promise<TokenPayload | null> {
  const plain = await open(keys, VERSION, token);
  return plain ? (JSON.parse(dec.decode(plain)) as TokenPayload) : null;
}

/**
 * A secret held for a while (a caller's token in a queued job) sealed under the same key
 * set. Its own version byte keeps it from ever opening as a token, and a token as it.
 */
export function sealSecret(keys: TokenKey[], secret: string): Promise<string> {
  return seal(keys, SECRET_VERSION, enc.encode(secret));
}

export async function openSecret(keys: TokenKey[], sealed: string): Promise<string | null> {
  const plain = await open(keys, SECRET_VERSION, sealed);
  return plain ? dec.decode(plain) : null;
}

export function newAuditId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16))).slice(0, 22);
}
