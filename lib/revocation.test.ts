import { describe, expect, it } from 'vitest';
import { matches, type RevocationEvent } from './revocation';
import type { TokenPayload } from './token';

const T0 = 1_700_000_000_000;

const token: TokenPayload = {
  user: { id: 'u1', name: 'alice', domain: { id: 'd-user', name: 'Users' } },
  methods: ['application_credential'],
  issuedAt: T0,
  expiresAt: T0 + 3_600_000,
  auditIds: ['audit-self', 'audit-parent'],
  project: { id: 'p1', name: 'web', domain: { id: 'd-project', name: 'Projects' } },
  roles: [{ id: 'r1', name: 'member' }],
  applicationCredential: { id: 'ac1', name: 'ci', restricted: true },
};

const domainToken: TokenPayload = {
  ...token,
  project: undefined,
  applicationCredential: undefined,
  domain: { id: 'd-scope', name: 'Scope' },
};

/** An event recorded just after the token was issued, so only its fields decide. */
const ev = (fields: Omit<RevocationEvent, 'seq' | 'issuedBefore'>, issuedBefore = T0 + 1): RevocationEvent => ({
  seq: 1,
  issuedBefore,
  ...fields,
});

describe('revocation event matching', () => {
  it('matches by audit id, the token own or its parent chain', () => {
    expect(matches(ev({ auditId: 'audit-self' }), token)).toBe(true);
    // Revoking a token revokes the tokens rescoped from it, which carry its audit id second.
    expect(matches(ev({ auditId: 'audit-parent' }), token)).toBe(true);
    expect(matches(ev({ auditId: 'audit-other' }), token)).toBe(false);
  });

  it('matches by user', () => {
    expect(matches(ev({ userId: 'u1' }), token)).toBe(true);
    expect(matches(ev({ userId: 'u2' }), token)).toBe(false);
  });

  it('matches by project, and never a token without one', () => {
    expect(matches(ev({ projectId: 'p1' }), token)).toBe(true);
    expect(matches(ev({ projectId: 'p2' }), token)).toBe(false);
    expect(matches(ev({ projectId: 'p1' }), domainToken)).toBe(false);
  });

  it("matches by domain: the user's, the project's or the scoped domain", () => {
    expect(matches(ev({ domainId: 'd-user' }), token)).toBe(true);
    expect(matches(ev({ domainId: 'd-project' }), token)).toBe(true);
    expect(matches(ev({ domainId: 'd-scope' }), domainToken)).toBe(true);
    expect(matches(ev({ domainId: 'd-scope' }), token)).toBe(false);
    expect(matches(ev({ domainId: 'd-other' }), token)).toBe(false);
  });

  it('matches by application credential, and never a token issued without one', () => {
    expect(matches(ev({ applicationCredentialId: 'ac1' }), token)).toBe(true);
    expect(matches(ev({ applicationCredentialId: 'ac2' }), token)).toBe(false);
    expect(matches(ev({ applicationCredentialId: 'ac1' }), domainToken)).toBe(false);
  });

  it('requires every field the event gives', () => {
    expect(matches(ev({ userId: 'u1', projectId: 'p1' }), token)).toBe(true);
    expect(matches(ev({ userId: 'u1', projectId: 'p2' }), token)).toBe(false);
    expect(matches(ev({ userId: 'u2', projectId: 'p1' }), token)).toBe(false);
  });

  it('does not match a token issued after the event', () => {
    const later = { ...token, issuedAt: T0 + 2 };
    expect(matches(ev({ userId: 'u1' }), later)).toBe(false);
    expect(matches(ev({ auditId: 'audit-self' }), later)).toBe(false);
    // Issued in the same millisecond as the event: still revoked ("at or before").
    expect(matches(ev({ userId: 'u1' }, T0), token)).toBe(true);
    expect(matches(ev({ userId: 'u1' }, T0 - 1), token)).toBe(false);
  });
});
