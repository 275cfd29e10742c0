import { describe, expect, it } from 'vitest';
import { Enforcer, parseCheck } from './policy';

const rules = new Enforcer([
  { name: 'admin_required', checkStr: 'role:admin', description: '' },
  { name: 'owner', checkStr: 'user_id:%(target.user.id)s', description: '' },
  { name: 'admin_or_owner', checkStr: 'rule:admin_required or rule:owner', description: '' },
  { name: 'reader_in_project', checkStr: '(role:reader and project_id:%(project_id)s) and not role:banned', description: '' },
  { name: 'system_reader', checkStr: 'role:reader and system_scope:all', description: '' },
  { name: 'nobody', checkStr: '!', description: '' },
  { name: 'anybody', checkStr: '@', description: '' },
]);

describe('policy engine', () => {
  it('checks roles case-insensitively', () => {
    expect(rules.enforce('admin_required', { roles: ['Admin'] })).toBe(true);
    expect(rules.enforce('admin_required', { roles: ['member'] })).toBe(false);
  });

  it('substitutes target values, dotted or flat', () => {
    expect(rules.enforce('owner', { user_id: 'u1' }, { target: { user: { id: 'u1' } } })).toBe(true);
    expect(rules.enforce('owner', { user_id: 'u1' }, { 'target.user.id': 'u1' })).toBe(true);
    expect(rules.enforce('owner', { user_id: 'u1' }, { 'target.user.id': 'u2' })).toBe(false);
    expect(rules.enforce('owner', { user_id: 'u1' }, {})).toBe(false);
  });

  it('follows rule references and boolean operators', () => {
    expect(rules.enforce('admin_or_owner', { roles: ['admin'], user_id: 'x' }, { 'target.user.id': 'y' })).toBe(true);
    expect(rules.enforce('reader_in_project', { roles: ['reader'], project_id: 'p' }, { project_id: 'p' })).toBe(true);
    expect(rules.enforce('reader_in_project', { roles: ['reader', 'banned'], project_id: 'p' }, { project_id: 'p' })).toBe(false);
    expect(rules.enforce('reader_in_project', { roles: ['reader'], project_id: 'p' }, { project_id: 'q' })).toBe(false);
  });

  it('knows system scope, always and never', () => {
    expect(rules.enforce('system_reader', { roles: ['reader'], system_scope: 'all' })).toBe(true);
    expect(rules.enforce('system_reader', { roles: ['reader'] })).toBe(false);
    expect(rules.enforce('nobody', { roles: ['admin'] })).toBe(false);
    expect(rules.enforce('anybody', {})).toBe(true);
  });

  it('compares a quoted literal with a target value', () => {
    const e = new Enforcer([{ name: 'public', checkStr: "'public':%(visibility)s or role:admin", description: '' }]);
    expect(e.enforce('public', { roles: [] }, { visibility: 'public' })).toBe(true);
    expect(e.enforce('public', { roles: [] }, { visibility: 'private' })).toBe(false);
    expect(e.enforce('public', { roles: ['admin'] }, { visibility: 'private' })).toBe(true);
  });

  it('lets overrides replace defaults', () => {
    const e = new Enforcer([{ name: 'x', checkStr: 'role:admin', description: '' }], { x: 'role:member' });
    expect(e.enforce('x', { roles: ['member'] })).toBe(true);
  });

  it('fails loudly on a malformed rule when built', () => {
    expect(() => parseCheck('role:admin and (role:x')).toThrow(/missing/);
    expect(() => parseCheck('role:admin )')).toThrow(/trailing/);
    expect(() => new Enforcer([{ name: 'x', checkStr: 'nocolon', description: '' }])).toThrow();
  });
});
