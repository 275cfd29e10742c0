// Key pairs as Nova's crypto.py handles them: an imported OpenSSH public key is checked to
// be one (as cryptography's load_ssh_public_key does) and fingerprinted with MD5; an X.509
// certificate with SHA-1; a generated key pair is RSA 2048, its private key PEM-encoded as
// paramiko writes it ("BEGIN RSA PRIVATE KEY", which ssh reads), its public key
// "ssh-rsa ... Generated-by-Nova".
import { md5, sha1 } from '@noble/hashes/legacy.js';

/** Colon-separated hex pairs, as Nova prints fingerprints. */
function colonHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function base64ToBytes(text: string): Uint8Array | null {
  // Python's b64decode drops characters outside the alphabet; padding must still add up.
  const clean = text.replace(/[^A-Za-z0-9+/=]/g, '');
  if (clean.length === 0 || clean.length % 4 !== 0 || /=[^=]/.test(clean)) return null;
  try {
    return Uint8Array.from(atob(clean), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Reads the length-prefixed fields of an SSH wire-format key blob. */
class SshReader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}
  bytes(): Uint8Array {
    if (this.at + 4 > this.buf.length) throw new Error('truncated');
    const n = new DataView(this.buf.buffer, this.buf.byteOffset + this.at, 4).getUint32(0);
    this.at += 4;
    if (this.at + n > this.buf.length) throw new Error('truncated');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  string(): string {
    return new TextDecoder().decode(this.bytes());
  }
  done(): boolean {
    return this.at === this.buf.length;
  }
}

const EC_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** Checks a key blob the way cryptography parses it; throws when it is not a key of its stated type. */
function checkBlob(type: string, blob: Uint8Array): void {
  const r = new SshReader(blob);
  if (r.string() !== type) throw new Error('key type mismatch');
  const mpint = () => {
    const v = r.bytes();
    if (v.length === 0 || (v[0]! & 0x80) !== 0) throw new Error('bad mpint');
  };
  const ec = (curve: string) => {
    if (r.string() !== curve) throw new Error('curve mismatch');
    const point = r.bytes();
    if (point.length !== EC_POINT_BYTES[curve] || point[0] !== 4) throw new Error('bad point');
  };
  if (type === 'ssh-rsa') {
    mpint();
    mpint();
  } else if (type === 'ssh-dss') {
    for (let i = 0; i < 4; i++) mpint();
  } else if (type.startsWith('ecdsa-sha2-')) {
    ec(type.slice('ecdsa-sha2-'.length));
  } else if (type === 'sk-ecdsa-sha2-nistp256@openssh.com') {
    ec('nistp256');
    r.string();
  } else if (type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com') {
    if (r.bytes().length !== 32) throw new Error('bad ed25519 key');
    if (type.startsWith('sk-')) r.string();
  } else {
    throw new Error('unsupported key type');
  }
  if (!r.done()) throw new Error('extra data');
}

const KEY_TYPES = /^(ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|ssh-ed25519|sk-ecdsa-sha2-nistp256@openssh\.com|sk-ssh-ed25519@openssh\.com)$/;

/** Nova's generate_fingerprint: MD5 of the key blob, or null when the text is not an OpenSSH public key. */
export function sshFingerprint(publicKey: string): string | null {
  const parts = publicKey.split(' ');
  const type = parts[0]!;
  if (parts.length < 2 || !KEY_TYPES.test(type)) return null;
  // Only the base64 field up to the first whitespace counts, a trailing newline included.
  const blob = base64ToBytes(parts[1]!.split(/\s/)[0]!);
  if (!blob) return null;
  try {
    checkBlob(type, blob);
  } catch {
    return null;
  }
  return colonHex(md5(blob));
}

// --- DER ------------------------------------------------------------------------------

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  const tag = der[at];
  let len = der[at + 1];
  if (tag === undefined || len === undefined) throw new Error('truncated DER');
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

/** Nova's generate_x509_fingerprint: SHA-1 of a PEM certificate's DER, or an error message. */
export function x509Fingerprint(pem: string): { fingerprint: string } | { error: string } {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  const der = m ? base64ToBytes(m[1]!) : null;
  if (!der) return { error: 'Unable to load PEM file.' };
  try {
    const cert = readTlv(der, 0);
    if (cert.tag !== 0x30 || cert.end !== der.length) throw new Error('not a certificate');
    const tbs = readTlv(der, cert.start);
    const alg = readTlv(der, tbs.end);
    const sig = readTlv(der, alg.end);
    if (tbs.tag !== 0x30 || alg.tag !== 0x30 || sig.tag !== 0x03 || sig.end !== cert.end) throw new Error('not a certificate');
  } catch (err) {
    return { error: `error parsing asn1 value: ${(err as Error).message}` };
  }
  return { fingerprint: colonHex(sha1(der)) };
}

// --- key generation ---------------------------------------------------------------------

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/** An SSH mpint from a big-endian unsigned integer: no leading zeros, one 0 byte if the top bit is set. */
function mpint(unsigned: Uint8Array): Uint8Array {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return sshString((v[0]! & 0x80) !== 0 ? Uint8Array.of(0, ...v) : v);
}

function base64UrlToBytes(s: string): Uint8Array {
  return base64ToBytes(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '='))!;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface GeneratedKeyPair {
  privateKey: string;
  publicKey: string;
  fingerprint: string;
}

/** Nova's crypto.generate_key_pair: a new RSA key pair, 2048 bits unless told otherwise. */
export async function generateKeyPair(bits = 2048): Promise<GeneratedKeyPair> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
  const blob = concat([sshString(new TextEncoder().encode('ssh-rsa')), mpint(base64UrlToBytes(jwk.e!)), mpint(base64UrlToBytes(jwk.n!))]);
  // PKCS#8 is SEQUENCE { version, algorithm, OCTET STRING { RSAPrivateKey } }: the PKCS#1 key is the octet string.
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
  const outer = readTlv(pkcs8, 0);
  const version = readTlv(pkcs8, outer.start);
  const algorithm = readTlv(pkcs8, version.end);
  const key = readTlv(pkcs8, algorithm.end);
  const pkcs1 = pkcs8.subarray(key.start, key.end);
  const lines = bytesToBase64(pkcs1).match(/.{1,64}/g)!.join('\n');
  return {
    privateKey: `-----BEGIN RSA PRIVATE KEY-----\n${lines}\n-----END RSA PRIVATE KEY-----\n`,
    publicKey: `ssh-rsa ${bytesToBase64(blob)} Generated-by-Nova`,
    fingerprint: colonHex(md5(blob)),
  };
}
