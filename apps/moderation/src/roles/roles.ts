import { ChatError, type ServerRole, type ServerRoleSet, type ServerRoleView, type UserView } from '@chat/contracts';

/** Server roles granted by operations (ServerRoleSet), by user id. SERVER_ADMINS come on top (by name). */
export type GrantedRoles = Map<string, { username: string; role: ServerRole }>;

/** Folds one ServerRoleSet: `role: null` takes the grant away. Replaying an event twice gives the same state. */
export function evolveRoles(roles: GrantedRoles, e: ServerRoleSet): void {
  const { userId, username, role } = e.payload;
  if (role === null) roles.delete(userId);
  else roles.set(userId, { username, role });
}

/** The user's server role: SERVER_ADMINS (by name) are administrators whatever was granted. */
export function serverRoleOf(roles: GrantedRoles, isConfigAdmin: (username: string) => boolean, user: UserView): ServerRole | null {
  if (isConfigAdmin(user.username)) return 'admin';
  return roles.get(user.userId)?.role ?? null;
}

/** Rank of a role for "may act on": administrators over moderators over everyone else. */
export const roleRank = (role: ServerRole | null): number => (role === 'admin' ? 2 : role === 'moderator' ? 1 : 0);

/**
 * Whether an actor with server role `actor` may sanction (mute, warn, kick, ban) a user with
 * server role `target`: nobody sanctions an administrator, and only administrators sanction
 * moderators. Room staff without a server role (room mutes) therefore cannot mute anyone
 * with a server role.
 */
export function mustOutrank(actor: ServerRole | null, target: ServerRole | null): void {
  if (target === 'admin') throw new ChatError('FORBIDDEN', 'a server administrator cannot be sanctioned');
  if (target === 'moderator' && actor !== 'admin') throw new ChatError('FORBIDDEN', 'only server administrators sanction moderators');
}

/**
 * moderation.setRole, decided: administrators only; an administrator named in SERVER_ADMINS
 * keeps that role whatever is set; setting what is already there is refused as a no-op
 * (CONFLICT) so that every stored ServerRoleSet is a change.
 */
export function decideSetRole(
  roles: GrantedRoles,
  isConfigAdmin: (username: string) => boolean,
  actorRole: ServerRole | null,
  target: UserView,
  role: ServerRole | null,
): void {
  if (actorRole !== 'admin') throw new ChatError('FORBIDDEN', 'only server administrators set server roles');
  if (isConfigAdmin(target.username))
    throw new ChatError('FORBIDDEN', `${target.username} is an administrator by configuration (SERVER_ADMINS)`);
  const current = roles.get(target.userId)?.role ?? null;
  if (current === role)
    throw new ChatError('CONFLICT', `${target.username} already has ${role === null ? 'no server role' : `the role ${role}`}`);
}

/** Every server role, configured administrators (those whose ids are known) first, then by name. */
export function roleViews(roles: GrantedRoles, configAdmins: UserView[]): ServerRoleView[] {
  const out: ServerRoleView[] = configAdmins.map((u) => ({ ...u, role: 'admin' as const, source: 'config' as const }));
  const seen = new Set(out.map((v) => v.userId));
  const granted = [...roles].filter(([userId]) => !seen.has(userId));
  granted.sort((a, b) => a[1].username.localeCompare(b[1].username));
  for (const [userId, g] of granted) out.push({ userId, username: g.username, role: g.role, source: 'granted' });
  return out;
}
