import { ChatError, makeEvent, type ServerRole, type ServerRoleSet } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { decideSetRole, evolveRoles, mustOutrank, roleViews, serverRoleOf, type GrantedRoles } from './roles';

const ctx = { now: () => new Date(), newId: randomUUID, actor: { kind: 'user' as const, id: 'x' }, correlationId: 'c' };
const ann = { userId: randomUUID(), username: 'ann' };
const bob = { userId: randomUUID(), username: 'bob' };
const admins = (username: string) => username.toLowerCase() === 'root';
const set = (user: { userId: string; username: string }, role: ServerRole | null) =>
  makeEvent<ServerRoleSet>(ctx, 'ServerRoleSet', 1, { ...user, role, byUserId: randomUUID(), byUsername: 'root' });
const code = (f: () => void) => {
  try {
    f();
    return null;
  } catch (e) {
    return (e as ChatError).code;
  }
};

describe('roles - fold and permissions', () => {
  it('folds grants and removals; replaying the same events gives the same state', () => {
    const events = [set(ann, 'moderator'), set(bob, 'admin'), set(ann, null), set(ann, 'admin')];
    const once: GrantedRoles = new Map();
    const twice: GrantedRoles = new Map();
    for (const e of events) evolveRoles(once, e);
    for (const e of [...events, ...events]) evolveRoles(twice, e);
    expect(once).toEqual(twice);
    expect(serverRoleOf(once, admins, ann)).toBe('admin');
    expect(serverRoleOf(once, admins, { userId: randomUUID(), username: 'carl' })).toBeNull();
  });

  it('configured administrators are admins whatever was granted, and cannot be changed', () => {
    const roles: GrantedRoles = new Map();
    const root = { userId: randomUUID(), username: 'Root' };
    evolveRoles(roles, set(root, null));
    expect(serverRoleOf(roles, admins, root)).toBe('admin');
    expect(code(() => decideSetRole(roles, admins, 'admin', root, 'moderator'))).toBe('FORBIDDEN');
  });

  it('only administrators set roles; setting what is already there is a CONFLICT', () => {
    const roles: GrantedRoles = new Map();
    evolveRoles(roles, set(ann, 'moderator'));
    expect(code(() => decideSetRole(roles, admins, 'moderator', bob, 'moderator'))).toBe('FORBIDDEN');
    expect(code(() => decideSetRole(roles, admins, null, bob, 'moderator'))).toBe('FORBIDDEN');
    expect(code(() => decideSetRole(roles, admins, 'admin', ann, 'moderator'))).toBe('CONFLICT');
    expect(code(() => decideSetRole(roles, admins, 'admin', bob, null))).toBe('CONFLICT');
    expect(code(() => decideSetRole(roles, admins, 'admin', ann, null))).toBeNull();
  });

  it('nobody sanctions an administrator; only administrators sanction moderators', () => {
    expect(code(() => mustOutrank('admin', 'admin'))).toBe('FORBIDDEN');
    expect(code(() => mustOutrank('moderator', 'moderator'))).toBe('FORBIDDEN');
    expect(code(() => mustOutrank(null, 'moderator'))).toBe('FORBIDDEN');
    expect(code(() => mustOutrank('admin', 'moderator'))).toBeNull();
    expect(code(() => mustOutrank('moderator', null))).toBeNull();
    expect(code(() => mustOutrank(null, null))).toBeNull();
  });

  it('lists configured administrators first, then grants by name', () => {
    const roles: GrantedRoles = new Map();
    evolveRoles(roles, set(bob, 'moderator'));
    evolveRoles(roles, set(ann, 'admin'));
    const root = { userId: randomUUID(), username: 'root' };
    expect(roleViews(roles, [root]).map((v) => [v.username, v.role, v.source])).toEqual([
      ['root', 'admin', 'config'],
      ['ann', 'admin', 'granted'],
      ['bob', 'moderator', 'granted'],
    ]);
  });
});
