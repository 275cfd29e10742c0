import { describe, expect, it } from 'vitest';
import { PBKDF2_ITERATIONS, PBKDF2_MAX_ITERATIONS, hashPassword, verifyPassword } from './password';
import { base64url, fromBase64url } from './token';

// Full-strength hashes cost tens of ms each; tests of the format use a cheap count.
const FAST = 1000;

describe('password hashing', () => {
  it('verifies the right password and rejects a wrong one (at the production strength)', async () => {
    const stored = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('stores scheme, iteration count, salt and hash', async () => {
    const stored = await hashPassword('pw');
    const [scheme, iterations, salt, hash, ...rest] = stored.split('$');
    expect(scheme).toBe('pbkdf2-sha256');
    expect(Number(iterations)).toBe(PBKDF2_ITERATIONS);
    expect(salt).toMatch(/^[A-Za-z0-9_-]{22}$/); // 16 bytes
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes
    expect(rest).toEqual([]);
    expect(await hashPassword('pw', FAST)).toMatch(/^pbkdf2-sha256\$1000\$/);
  });

  it('compares every byte of the hash', async () => {
    const stored = await hashPassword('pw', FAST);
    const parts = stored.split('$');
    const hash = fromBase64url(parts[3]!)!;
    hash[hash.length - 1] = hash[hash.length - 1]! ^ 1;
    parts[3] = base64url(hash);
    expect(await verifyPassword('pw', parts.join('$'))).toBe(false);
  });

  it('salts each hash', async () => {
    const a = await hashPassword('same', FAST);
    const b = await hashPassword('same', FAST);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('uses the iteration count stored with the hash, so old hashes keep verifying', async () => {
    const stored = await hashPassword('pw', FAST);
    expect(await verifyPassword('pw', stored)).toBe(true);
    // Same salt and hash claimed under another count: the derivation differs.
    expect(await verifyPassword('pw', stored.replace('$1000$', '$1001$'))).toBe(false);
  });

  it('rejects malformed stored values instead of throwing', async () => {
    const stored = await hashPassword('pw', FAST);
    for (const bad of [null, undefined, '', 'plain', stored.replace('pbkdf2-sha256', 'md5'), stored.replace('$1000$', '$0$'),
      stored.replace('$1000$', '$abc$'), stored.replace('$1000$', '$1.5$'), stored.split('$').slice(0, 3).join('$'),
      stored.slice(0, -5)]) {
      expect(await verifyPassword('pw', bad), String(bad)).toBe(false);
    }
  });

  it("refuses more than 100,000 iterations, Cloudflare's production limit", async () => {
    expect(PBKDF2_MAX_ITERATIONS).toBe(100_000);
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(PBKDF2_MAX_ITERATIONS);
    await expect(hashPassword('pw', 100_001)).rejects.toThrow(/100000/);
    // A genuine hash at 100,001 iterations (Node has no cap) never verifies: it throws today,
    // so a stored value over the limit shows up locally instead of only in production.
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('pw'), 'PBKDF2', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 100_001 }, key, 256);
    const stored = `pbkdf2-sha256$100001$${base64url(salt)}$${base64url(new Uint8Array(bits))}`;
    expect(await verifyPassword('pw', stored).catch(() => false)).toBe(false);
  });
});
