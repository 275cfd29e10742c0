// Password hashing with PBKDF2-SHA256 through WebCrypto. The iteration count is stored
// with each hash, so it can be raised later without invalidating old hashes.
import { base64url, fromBase64url } from './token';

/**
 * 100,000 is the most Cloudflare's production runtime accepts ("iteration counts above
 * 100000 are not supported"); local workerd has no cap, so this constant guards the trap.
 */
export const PBKDF2_ITERATIONS = 100_000;
export const PBKDF2_MAX_ITERATIONS = 100_000;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  if (iterations > PBKDF2_MAX_ITERATIONS) throw new Error(`PBKDF2 iterations above ${PBKDF2_MAX_ITERATIONS}`);
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

/** Returns "pbkdf2-sha256$<iterations>$<salt>$<hash>". */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `pbkdf2-sha256$${iterations}$${base64url(salt)}$${base64url(await derive(password, salt, iterations))}`;
}

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const [scheme, iter, salt, hash] = (stored ?? '').split('$');
  const saltBytes = fromBase64url(salt ?? '');
  const expected = fromBase64url(hash ?? '');
  const iterations = Number(iter);
  if (scheme !== 'pbkdf2-sha256' || !saltBytes || !expected || !Number.isInteger(iterations) || iterations < 1) {
    return false;
  }
  const got = await derive(password, saltBytes, iterations);
  if (got.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < got.length; i++) diff |= got[i]! ^ expected[i]!;
  return diff === 0;
}
