// JSON views of key pairs, as Nova's views/keypairs.py renders them: list items, the
// created key pair (with its private key when Nova made it) and the full show.
import type { ApiVersion } from '../../../lib/microversion';

export interface KeypairRecord {
  /** The row's integer id (Nova shows it on GET). */
  id: number;
  userId: string;
  name: string;
  type: string;
  fingerprint: string;
  publicKey: string;
  createdAt: string;
}

const withType = (v: ApiVersion, k: KeypairRecord) => (v.atLeast('2.2') ? { type: k.type } : {});

export function keypairListItem(v: ApiVersion, k: KeypairRecord): Record<string, unknown> {
  return { keypair: { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint, ...withType(v, k) } };
}

export function keypairCreated(v: ApiVersion, k: KeypairRecord, privateKey?: string): Record<string, unknown> {
  return {
    keypair: {
      ...(privateKey !== undefined ? { private_key: privateKey } : {}),
      ...withType(v, k),
      name: k.name,
      public_key: k.publicKey,
      fingerprint: k.fingerprint,
      user_id: k.userId,
    },
  };
}

export function keypairView(v: ApiVersion, k: KeypairRecord): Record<string, unknown> {
  return {
    keypair: {
      name: k.name,
      public_key: k.publicKey,
      fingerprint: k.fingerprint,
      user_id: k.userId,
      created_at: k.createdAt,
      deleted: false,
      deleted_at: null,
      id: k.id,
      updated_at: null,
      ...withType(v, k),
    },
  };
}
