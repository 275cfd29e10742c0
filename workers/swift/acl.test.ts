// Container ACL syntax (swift/common/middleware/acl.py) and keystoneauth's decisions.
import { describe, expect, it } from 'vitest';
import { AclError, aclGrant, aclKind, cleanAcl, matchCrossTenant, parseAcl, referrerAllowed, roleGrant, type AccessRequest, type SwiftIdentity } from './acl';

describe('cleanAcl', () => {
  it('tidies values as Swift stores them', () => {
    expect(cleanAcl('X-Container-Read', 'bob, sue')).toBe('bob,sue');
    expect(cleanAcl('X-Container-Read', 'bob , sue')).toBe('bob,sue');
    expect(cleanAcl('X-Container-Read', 'bob,,,sue')).toBe('bob,sue');
    expect(cleanAcl('X-Container-Read', '.referrer : *')).toBe('.r:*');
    expect(cleanAcl('X-Container-Read', '.ref:*.example.com')).toBe('.r:.example.com');
    expect(cleanAcl('X-Container-Read', '.r:*, .rlistings')).toBe('.r:*,.rlistings');
    expect(cleanAcl('X-Container-Read', '.r:-thief.com')).toBe('.r:-thief.com');
    expect(cleanAcl('X-Container-Write', 'p1:u1, p2:*')).toBe('p1:u1,p2:*');
  });

  it('refuses referrers in write ACLs, empty referrers and unknown designators', () => {
    expect(() => cleanAcl('X-Container-Write', '.r:*')).toThrow(AclError);
    expect(() => cleanAcl('X-Container-Read', '.r:')).toThrow(/No host\/domain/);
    expect(() => cleanAcl('X-Container-Read', '.r:-')).toThrow(AclError);
    expect(() => cleanAcl('X-Container-Read', '.bogus:x')).toThrow(/Unknown designator/);
  });
});

describe('parseAcl and referrerAllowed', () => {
  it('splits referrers from groups', () => {
    expect(parseAcl('.r:*,.rlistings,p:u')).toEqual({ referrers: ['*'], groups: ['.rlistings', 'p:u'] });
    expect(parseAcl(undefined)).toEqual({ referrers: [], groups: [] });
  });

  it('applies referrer designations in order', () => {
    expect(referrerAllowed(undefined, ['*'])).toBe(true);
    expect(referrerAllowed('http://www.example.com/page', ['.example.com'])).toBe(true);
    expect(referrerAllowed('http://example.org/', ['.example.com'])).toBe(false);
    expect(referrerAllowed('http://thief.example.com/', ['.example.com', '-thief.example.com'])).toBe(false);
    expect(referrerAllowed('http://ok.example.com/', ['.example.com', '-thief.example.com'])).toBe(true);
    expect(referrerAllowed('http://x.thief.com/', ['*', '-.thief.com'])).toBe(false);
    expect(referrerAllowed(undefined, [])).toBe(false);
  });
});

const ADMIN_PROJECT = 'p-admin';
const DEMO_PROJECT = 'p-demo';
const admin: SwiftIdentity = { userId: 'u-admin', userName: 'admin', projectId: ADMIN_PROJECT, projectName: 'admin', userDomainId: 'default', projectDomainId: 'default', roles: ['admin', 'member', 'reader'] };
const demo: SwiftIdentity = { userId: 'u-demo', userName: 'demo', projectId: DEMO_PROJECT, projectName: 'demo', userDomainId: 'default', projectDomainId: 'default', roles: ['member', 'reader'] };
const reader: SwiftIdentity = { userId: 'u-reader', userName: 'r', projectId: ADMIN_PROJECT, projectName: 'admin', roles: ['reader'] };
const reseller: SwiftIdentity = { userId: 'u-rs', projectId: DEMO_PROJECT, roles: ['ResellerAdmin'] };

const req = (op: AccessRequest['op'], over: Partial<AccessRequest> = {}): AccessRequest => ({
  method: op.endsWith('write') ? 'PUT' : 'GET',
  op,
  account: `AUTH_${ADMIN_PROJECT}`,
  container: op.startsWith('account') ? undefined : 'c',
  object: op.startsWith('object') ? 'o' : undefined,
  ...over,
});

/** The whole decision, as access.ts combines the two steps. */
function decide(r: AccessRequest, who: SwiftIdentity | null, acls: { read?: string; write?: string } = {}) {
  const byRole = who ? roleGrant(r, who) : null;
  if (byRole) return byRole;
  const kind = aclKind(r.op);
  return aclGrant(r, who, kind === 'read' ? acls.read : kind === 'write' ? acls.write : undefined);
}

describe('keystoneauth decisions', () => {
  it('makes an operator of the account’s project its owner, for everything but deleting the account', () => {
    for (const op of ['account:read', 'account:write', 'container:write', 'container:list', 'object:read', 'object:write'] as const) {
      expect(decide(req(op), admin)).toEqual({ allow: true, owner: true });
    }
    expect(decide(req('account:write', { method: 'DELETE' }), admin)).toEqual({ allow: false, status: 403 });
  });

  it('lets a reader read and list, but not write', () => {
    for (const op of ['account:read', 'container:read', 'container:list', 'object:read'] as const) {
      expect(decide(req(op), reader)).toEqual({ allow: true, owner: false });
    }
    for (const op of ['account:write', 'container:write', 'object:write'] as const) {
      expect(decide(req(op), reader)).toEqual({ allow: false, status: 403 });
    }
  });

  it('lets ResellerAdmin do anything anywhere, deleting accounts included', () => {
    expect(decide(req('object:write'), reseller)).toEqual({ allow: true, owner: true });
    expect(decide(req('account:write', { method: 'DELETE' }), reseller)).toEqual({ allow: true, owner: true });
  });

  it('refuses another project’s member (403) and the anonymous (401) without an ACL', () => {
    expect(decide(req('object:read'), demo)).toEqual({ allow: false, status: 403 });
    expect(decide(req('container:list'), demo)).toEqual({ allow: false, status: 403 });
    expect(decide(req('object:read'), null)).toEqual({ allow: false, status: 401 });
    // admin's admin role does not reach demo's account
    expect(decide(req('object:read', { account: `AUTH_${DEMO_PROJECT}` }), admin)).toEqual({ allow: false, status: 403 });
  });

  it('grants reads by project:user, project:*, *:user, and names in the default domain', () => {
    for (const acl of [`${DEMO_PROJECT}:u-demo`, `${DEMO_PROJECT}:*`, '*:u-demo', '*:*', 'demo:demo', 'x:y, demo:*'.replace(' ', '')]) {
      expect(decide(req('object:read'), demo, { read: acl })).toEqual({ allow: true, owner: false });
      expect(decide(req('container:list'), demo, { read: acl })).toEqual({ allow: true, owner: false });
      // a read ACL is not a write ACL
      expect(decide(req('object:write'), demo, { read: acl })).toEqual({ allow: false, status: 403 });
    }
    expect(decide(req('object:read'), demo, { read: `${ADMIN_PROJECT}:*` })).toEqual({ allow: false, status: 403 });
    expect(decide(req('object:read'), { ...demo, userDomainId: 'other' }, { read: 'demo:demo' })).toEqual({ allow: false, status: 403 });
  });

  it('grants writes of objects only, by the write ACL', () => {
    expect(decide(req('object:write'), demo, { write: `${DEMO_PROJECT}:*` })).toEqual({ allow: true, owner: false });
    expect(decide(req('container:write'), demo, { write: `${DEMO_PROJECT}:*` })).toEqual({ allow: false, status: 403 });
    expect(decide(req('object:read'), demo, { write: `${DEMO_PROJECT}:*` })).toEqual({ allow: false, status: 403 });
    // write ACLs let an account reader upload
    expect(decide(req('object:write'), reader, { write: `${ADMIN_PROJECT}:u-reader` })).toEqual({ allow: true, owner: false });
  });

  it('opens objects to everyone with .r:*, and listings only with .rlistings', () => {
    expect(decide(req('object:read'), null, { read: '.r:*' })).toEqual({ allow: true, owner: false });
    expect(decide(req('object:read'), demo, { read: '.r:*' })).toEqual({ allow: true, owner: false });
    expect(decide(req('container:list'), null, { read: '.r:*' })).toEqual({ allow: false, status: 401 });
    expect(decide(req('container:list'), demo, { read: '.r:*' })).toEqual({ allow: false, status: 403 });
    expect(decide(req('container:list'), null, { read: '.r:*,.rlistings' })).toEqual({ allow: true, owner: false });
    expect(decide(req('container:read'), null, { read: '.r:*,.rlistings' })).toEqual({ allow: true, owner: false });
    expect(decide(req('object:write'), null, { read: '.r:*,.rlistings' })).toEqual({ allow: false, status: 401 });
    expect(decide(req('object:read'), null, { read: '.r:.example.com' })).toEqual({ allow: false, status: 401 });
    expect(decide(req('object:read', { referrer: 'https://cdn.example.com/x' }), null, { read: '.r:.example.com' })).toEqual({ allow: true, owner: false });
  });

  it('accepts role names in the ACL for the account’s own project only', () => {
    const member: SwiftIdentity = { ...reader, roles: ['auditor'] };
    expect(decide(req('object:read'), member, { read: 'auditor' })).toEqual({ allow: true, owner: false });
    expect(decide(req('object:read'), { ...demo, roles: ['auditor'] }, { read: 'auditor' })).toEqual({ allow: false, status: 403 });
  });

  it('refuses accounts outside the AUTH_ prefix to the anonymous', () => {
    expect(decide(req('object:read', { account: 'OTHER_x' }), null, { read: '.r:*' })).toEqual({ allow: false, status: 401 });
  });

  it('refuses accounts outside the AUTH_ prefix to the reseller admin too', () => {
    const reseller: SwiftIdentity = { ...reader, roles: ['ResellerAdmin'] };
    expect(decide(req('object:write', { account: '.stripes' }), reseller)).toEqual({ allow: false, status: 403 });
    expect(decide(req('object:write'), reseller)).toEqual({ allow: true, owner: true });
  });

  it('matches the first cross-tenant form that fits', () => {
    expect(matchCrossTenant(['*:u-demo'], demo)).toBe('*:u-demo');
    expect(matchCrossTenant(['p:u'], demo)).toBeNull();
  });
});
