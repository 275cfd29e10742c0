import { describe, expect, it } from 'vitest';
import { base64url, fromBase64url, generateKey, importKeySet, newAuditId, openSecret, openToken, sealSecret, sealToken, type TokenPayload } from './token';

const payload: TokenPayload = {
  user: { id: 'u1', name: 'admin', domain: { id: 'default', name: 'Default' } },
  methods: ['password'],
  issuedAt: 1_700_000_000_123,
  expiresAt: 1_700_003_600_123,
  auditIds: ['a1'],
  project: { id: 'p1', name: 'admin', domain: { id: 'default', name: 'Default' } },
  roles: [{ id: 'r1', name: 'admin' }],
};

const keys = (...secrets: string[]) => importKeySet(JSON.stringify(secrets));

// Replaces one base64url character with another, so the token still decodes but its bytes differ.
function flip(token: string, at: number): string {
  const ch = token[at]!;
  return token.slice(0, at) + (ch === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

describe('token sealing', () => {
  it('opens what it sealed, unchanged', async () => {
    const set = await keys(generateKey());
    const token = await sealToken(set, payload);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await openToken(set, token)).toEqual(payload);
  });

  it('seals the same payload differently each time (random IV)', async () => {
    const set = await keys(generateKey());
    expect(await sealToken(set, payload)).not.toBe(await sealToken(set, payload));
  });

  it('rejects a token with one character changed, wherever it is', async () => {
    const set = await keys(generateKey());
    const token = await sealToken(set, payload);
    // Header (key id), IV, ciphertext and tag: every part is authenticated.
    // The last character is skipped: its low bits are base64 padding that decoding drops.
    for (const at of [2, 10, 30, Math.floor(token.length / 2), token.length - 2]) {
      expect(await openToken(set, flip(token, at)), `flipped at ${at}`).toBeNull();
    }
  });

  it('opens a token of an old key while the key is still in the set, and not once dropped', async () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const token = await sealToken(await keys(oldKey), payload);
    // Rotation: the new key goes first, the old one stays as a secondary key.
    const rotated = await keys(newKey, oldKey);
    expect(await openToken(rotated, token)).toEqual(payload);
    // New tokens are sealed by the new primary: the old key alone cannot open them.
    const fresh = await sealToken(rotated, payload);
    expect(await openToken(await keys(oldKey), fresh)).toBeNull();
    expect(await openToken(await keys(newKey), fresh)).toEqual(payload);
    // Old key dropped: its tokens no longer open.
    expect(await openToken(await keys(newKey), token)).toBeNull();
  });

  it('rejects a wrong version byte', async () => {
    const set = await keys(generateKey());
    const bytes = fromBase64url(await sealToken(set, payload))!;
    bytes[0] = bytes[0]! + 1;
    expect(await openToken(set, base64url(bytes))).toBeNull();
    // Also a token correctly sealed under another version (the header is the AAD, so the
    // edit above already breaks the tag): only the version check itself can refuse this one.
    const header = new Uint8Array(5);
    header[0] = 0x47;
    new DataView(header.buffer).setUint32(1, set[0]!.id);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, set[0]!.key, new TextEncoder().encode(JSON.stringify(payload))),
    );
    const forged = new Uint8Array([...header, ...iv, ...sealed]);
    expect(await openToken(set, base64url(forged))).toBeNull();
    forged[0] = 0x46; // the same bytes under the right version fail only on the tag
    expect(await openToken(set, base64url(forged))).toBeNull();
  });

  it('rejects garbage, truncated and oversized tokens', async () => {
    const set = await keys(generateKey());
    const token = await sealToken(set, payload);
    expect(await openToken(set, '')).toBeNull();
    expect(await openToken(set, 'not a token!')).toBeNull();
    expect(await openToken(set, token.slice(0, 20))).toBeNull();
    expect(await openToken(set, token.slice(0, -4))).toBeNull();
    expect(await openToken(set, 'A'.repeat(9000))).toBeNull();
  });

  it('refuses to seal with an empty key set', async () => {
    await expect(sealToken([], payload)).rejects.toThrow(/empty/);
  });
});

describe('secret sealing', () => {
  it('opens what it sealed, and nothing of the secret shows in the sealed form', async () => {
    const ks = await keys(generateKey());
    const secret = 'gAAAA-a-callers-token-0123456789';
    const sealed = await sealSecret(ks, secret);
    expect(sealed).not.toContain(secret);
    expect(await openSecret(ks, sealed)).toBe(secret);
    expect(await openSecret(await keys(generateKey()), sealed)).toBeNull();
  });

  it('never opens a sealed secret as a token, nor a token as a secret', async () => {
    const ks = await keys(generateKey());
    const token = await sealToken(ks, payload);
    expect(await openSecret(ks, token)).toBeNull();
    expect(await openToken(ks, await sealSecret(ks, JSON.stringify(payload)))).toBeNull();
  });
});

describe('importKeySet', () => {
  it('imports every key, primary first', async () => {
    const set = await keys(generateKey(), generateKey());
    expect(set).toHaveLength(2);
    expect(set[0]!.id).not.toBe(set[1]!.id);
  });

  it('rejects malformed secrets', async () => {
    await expect(importKeySet(undefined)).rejects.toThrow(/not set/);
    await expect(importKeySet('')).rejects.toThrow(/not set/);
    await expect(importKeySet('not json')).rejects.toThrow();
    await expect(importKeySet('[]')).rejects.toThrow(/non-empty/);
    await expect(importKeySet('{"a":1}')).rejects.toThrow(/non-empty/);
    await expect(importKeySet(JSON.stringify([generateKey(), 42]))).rejects.toThrow(/TOKEN_KEYS\[1\]/);
    // 16 bytes: an AES-128 key is not accepted, the set is AES-256 only.
    await expect(importKeySet(JSON.stringify([base64url(new Uint8Array(16))]))).rejects.toThrow(/32-byte/);
    await expect(importKeySet(JSON.stringify(['not+base64url/=']))).rejects.toThrow(/32-byte/);
  });
});

describe('base64url and audit ids', () => {
  it('round-trips bytes of every length', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(fromBase64url(base64url(bytes))).toEqual(bytes);
    }
  });

  it('makes 22-character url-safe audit ids', () => {
    const id = newAuditId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newAuditId()).not.toBe(id);
  });
});
