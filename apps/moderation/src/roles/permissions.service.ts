import { Inject, Injectable } from '@nestjs/common';
import {
  ChatError,
  makeEvent,
  type ServerRole,
  type ServerRoleSet,
  type ServerRoleView,
  type Subjects,
  type UserView,
} from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { CONFIG, SUBJECTS, isServerAdmin } from '@chat/platform';
import type { ModerationConfig } from '../config';
import { ModerationUsers } from '../access/users';
import { ModerationLog } from '../log/moderation-log';
import { PermissionsPort, type Caller } from '../ports';
import { eventContext, store } from '../sanctions/commands';
import { ModerationNews } from '../sanctions/news';
import { decideSetRole, evolveRoles, roleViews, serverRoleOf, type GrantedRoles } from './roles';

const STAFF: readonly ServerRole[] = ['admin', 'moderator'];

/**
 * Server roles as this replica folds them (ServerRoleSet), with SERVER_ADMINS on top, and the
 * room-staff question asked of the rooms service. Answers from memory except requireRoomStaff.
 */
@Injectable()
export class PermissionsService extends PermissionsPort {
  readonly granted: GrantedRoles = new Map();
  /** Last stored position of each user's role subject, for the setRole append's expected sequence. */
  readonly lastRoleSeq = new Map<string, number>();
  /** Configured administrators found by name (see configAdmins). */
  private readonly knownAdmins = new Map<string, UserView>();

  constructor(
    private readonly log: ModerationLog,
    private readonly rpc: RpcClient,
    private readonly users: ModerationUsers,
    private readonly news: ModerationNews,
    @Inject(CONFIG) private readonly config: ModerationConfig,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {
    super();
    log.onEvent(({ event, position }) => {
      if (event.type !== 'ServerRoleSet') return;
      evolveRoles(this.granted, event);
      this.lastRoleSeq.set(event.payload.userId, position);
    });
  }

  readonly isConfigAdmin = (username: string): boolean => isServerAdmin(this.config, username);

  serverRole(userId: string, username: string): ServerRole | null {
    return serverRoleOf(this.granted, this.isConfigAdmin, { userId, username });
  }

  requireServerRole(caller: Caller, roles: readonly ServerRole[] = STAFF): void {
    const role = this.serverRole(caller.userId, caller.username);
    if (role === null || !roles.includes(role))
      throw new ChatError(
        'FORBIDDEN',
        roles.length === 1 && roles[0] === 'admin' ? 'server administrators only' : 'server moderators and administrators only',
      );
  }

  async requireRoomStaff(caller: Caller, roomId: string, correlationId: string): Promise<void> {
    await this.roomStaffRole(caller, roomId, correlationId);
  }

  /**
   * As requireRoomStaff, answering the caller's room role: `owner` or `admin`, or null for
   * server staff (who are not asked of the rooms service).
   */
  async roomStaffRole(caller: Caller, roomId: string, correlationId: string): Promise<'owner' | 'admin' | null> {
    if (this.serverRole(caller.userId, caller.username) !== null) return null;
    // NOT_FOUND for a room the caller cannot see comes back from rooms as it is.
    const room = await this.rpc.callOrThrow('rooms.details', { userId: caller.userId, roomId }, { correlationId });
    if (room.myRole !== 'owner' && room.myRole !== 'admin')
      throw new ChatError('FORBIDDEN', `only the owner and admins of "${roomId}" or server staff may do this`);
    return room.myRole;
  }

  /**
   * Room staff act on a room's members as room.kick and room.ban do: nobody but server staff
   * acts on the room's owner, and only the owner on its admins. `actorRole` is what
   * roomStaffRole answered (null: server staff, for whom the room's ranks do not count). The
   * target's role is asked of the rooms service; a target who cannot see the room (NOT_FOUND)
   * has no role in it.
   */
  async requireRoomOutranks(actorRole: 'owner' | 'admin' | null, target: UserView, roomId: string, correlationId: string): Promise<void> {
    if (actorRole === null) return;
    const r = await this.rpc.call('rooms.details', { userId: target.userId, roomId }, { correlationId });
    if (!r.ok && r.error.code !== 'NOT_FOUND') throw new ChatError(r.error.code, r.error.message);
    const role = r.ok ? r.data.myRole : null;
    if (role === 'owner') throw new ChatError('FORBIDDEN', `the owner of "${roomId}" can only be sanctioned by server staff`);
    if (role === 'admin' && actorRole !== 'owner')
      throw new ChatError('FORBIDDEN', `only the owner of "${roomId}" or server staff may sanction its admins`);
  }

  /**
   * The configured administrators whose accounts exist (looked up by name in the accounts
   * bucket), in configuration order. A found one is remembered (an account's name and id never
   * change); one not found yet (not registered, or the bucket did not answer) is asked again
   * next time, so report news reaches an administrator who registers later.
   */
  async configAdmins(): Promise<UserView[]> {
    const names = this.config.SERVER_ADMINS ? this.config.SERVER_ADMINS.split(',').map((n) => n.trim()) : [];
    const found = await Promise.all(
      names.map(async (n) => {
        const known = this.knownAdmins.get(n);
        if (known) return known;
        const user = await this.users.byName(n).catch(() => null);
        if (user) this.knownAdmins.set(n, user);
        return user;
      }),
    );
    return found.filter((u): u is UserView => u !== null);
  }

  async roleViews(): Promise<ServerRoleView[]> {
    return roleViews(this.granted, await this.configAdmins());
  }

  /** Everyone with a server role (granted, and the configured administrators found): who gets report news. */
  async staff(): Promise<UserView[]> {
    return (await this.roleViews()).map(({ userId, username }) => ({ userId, username }));
  }

  /**
   * moderation.setRole: administrators give or take a server role (not from a configured
   * administrator). Appended expecting the user's role subject unchanged since the decision, so
   * two administrators changing the same user at once get one CONFLICT. The user is told.
   */
  async setRole(actor: UserView, req: { userId: string; role?: ServerRole | null }, correlationId: string): Promise<{ position: number }> {
    const role = req.role ?? null;
    const target = await this.users.requireById(req.userId);
    decideSetRole(this.granted, this.isConfigAdmin, this.serverRole(actor.userId, actor.username), target, role);
    const event = makeEvent<ServerRoleSet>(eventContext(actor, correlationId), 'ServerRoleSet', 1, {
      ...target,
      role,
      byUserId: actor.userId,
      byUsername: actor.username,
    });
    const r = await store(this.log, this.s.moderation.role(target.userId), event, event.id, this.lastRoleSeq.get(target.userId) ?? 0);
    this.news.send(target.userId, 'moderation.role', { role, by: actor, time: event.time });
    return { position: r.seq };
  }
}
