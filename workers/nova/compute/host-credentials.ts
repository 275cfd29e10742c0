// Host credentials: "<id>.<secret>", where the secret is 256 random bits. Only its
// SHA-256 is stored: a fast hash suffices for a secret nobody could guess.
const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function newSecret(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function hashSecret(secret: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(secret))));
}

/** Reads "Bearer <id>.<secret>"; null when the header is missing or malformed. */
export function parseCredential(header: string | undefined): { id: string; secret: string } | null {
  const m = /^Bearer ([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(header ?? '');
  return m ? { id: m[1]!, secret: m[2]! } : null;
}
