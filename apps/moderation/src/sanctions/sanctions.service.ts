import { Inject, Injectable } from '@nestjs/common';
import {
  ChatError,
  makeEvent,
  type MuteView,
  type ServerBanView,
  type Subjects,
  type UserMuted,
  type UserServerBanned,
  type UserServerKicked,
  type UserServerUnbanned,
  type UserUnmuted,
  type UserView,
  type UserWarned,
} from '@chat/contracts';
import { SUBJECTS } from '@chat/platform';
import { banViews, evolveBans, type Bans } from '../access/bans';
import { ModerationUsers } from '../access/users';
import { ModerationLog } from '../log/moderation-log';
import { SanctionsPort, type Cause } from '../ports';
import { PermissionsService } from '../roles/permissions.service';
import { mustOutrank } from '../roles/roles';
import { byFields, eventContext, store } from './commands';
import { activeMute, emptyMutes, evolveMutes, expiryMsgId, muteOfScope, mutesIn, mutesOf, type Mutes } from './mutes';
import { ModerationNews } from './news';
import { recordStrike, type StrikeLog } from './strikes';

/** A moderation command's actor and request correlation. */
export interface ModCommand {
  actor: UserView;
  correlationId: string;
}

/**
 * Mutes, warnings, kicks and server bans: the state folded from the moderation stream (mutes
 * in force, bans in force, strike times, the last stored position of each user's subject) and
 * the commands that append to it. The send path asks `activeMute`/`isServerBanned` from memory.
 */
@Injectable()
export class SanctionsService extends SanctionsPort {
  readonly mutes: Mutes = emptyMutes();
  readonly bans: Bans = new Map();
  readonly strikes: StrikeLog = new Map();
  /**
   * Last stored position of each subject of the stream (users' `ns.mod.user.<id>`, reports...):
   * a strike's count and a report's state change are decided against it (expected last subject sequence).
   */
  readonly lastSeq = new Map<string, number>();
  /** Listeners of mute changes (the expiry timer reschedules). */
  private readonly muteListeners: Array<() => void> = [];

  constructor(
    private readonly log: ModerationLog,
    private readonly perms: PermissionsService,
    private readonly users: ModerationUsers,
    private readonly news: ModerationNews,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {
    super();
    log.onEvent(({ event, position, subject }) => {
      this.lastSeq.set(subject, position);
      switch (event.type) {
        case 'UserMuted':
        case 'UserUnmuted':
          evolveMutes(this.mutes, event);
          for (const l of this.muteListeners) l();
          return;
        case 'StrikeRecorded':
          recordStrike(this.strikes, event.payload.userId, Date.parse(event.time));
          return;
        case 'UserServerBanned':
        case 'UserServerUnbanned':
          evolveBans(this.bans, event);
          return;
        default:
          return;
      }
    });
  }

  onMutesChanged(listener: () => void): void {
    this.muteListeners.push(listener);
  }

  // ---- SanctionsPort (the send path, the subscribers, the escalation) ----

  activeMute(userId: string, roomId: string): MuteView | null {
    return activeMute(this.mutes, userId, roomId, Date.now());
  }

  isServerBanned(userId: string): boolean {
    return this.bans.has(userId);
  }

  /** A server-wide mute in force now (the escalation does not mute again over one). */
  isServerMuted(userId: string): boolean {
    return mutesOf(this.mutes, userId, Date.now()).some((m) => m.roomId === null);
  }

  /**
   * Automatic sanctions (rules, escalation) spare server staff: a rule misfiring on a moderator's
   * text must not silence or ban the people who would undo it. Their strikes are still recorded.
   */
  isStaff(user: UserView): boolean {
    return this.perms.serverRole(user.userId, user.username) !== null;
  }

  /**
   * Never shortens a mute: when the user's mute of that scope already ends later, nothing is
   * stored. Server staff are spared. With a cause (a subscriber's verdict), stored once under
   * its msgId whichever replica carries it out (and however often).
   */
  async muteByRule(
    m: {
      userId: string;
      username: string;
      roomId: string | null;
      seconds: number;
      reason: string;
      rule: string;
    },
    cause?: Cause,
  ): Promise<void> {
    if (this.isStaff(m)) return;
    const current = muteOfScope(this.mutes, m.userId, m.roomId);
    if (current && Date.parse(current.until) >= Date.now() + m.seconds * 1000) return;
    const target = { userId: m.userId, username: m.username };
    await this.storeMute(null, target, m.roomId, m.seconds, m.reason, m.rule, cause?.correlationId, cause?.msgId, cause?.causationId);
  }

  /** Server staff are spared (see isStaff). With a cause, stored once under its msgId (as muteByRule). */
  async warnByRule(w: { userId: string; username: string; reason: string; rule: string }, cause?: Cause): Promise<void> {
    if (this.isStaff(w)) return;
    const target = { userId: w.userId, username: w.username };
    await this.storeWarning(null, target, w.reason, w.rule, cause?.correlationId, cause?.msgId, cause?.causationId);
  }

  // ---- Operations ----

  /** moderation.mute: a room mute (room staff or server roles) or a server-wide one (server roles). */
  async mute(
    cmd: ModCommand,
    req: { userId: string; roomId?: string; seconds: number; reason?: string },
  ): Promise<{ position: number; mute: MuteView }> {
    const target = await this.authorise(cmd, req.userId, req.roomId ?? null, 'mute');
    return this.storeMute(cmd.actor, target, req.roomId ?? null, req.seconds, req.reason ?? '', null, cmd.correlationId);
  }

  /** moderation.unmute: lifts the user's mute of that scope; NOT_FOUND when none is in force. */
  async unmute(cmd: ModCommand, req: { userId: string; roomId?: string }): Promise<{ position: number }> {
    const target = await this.authorise(cmd, req.userId, req.roomId ?? null, 'unmute');
    const mute = muteOfScope(this.mutes, target.userId, req.roomId ?? null);
    if (!mute || Date.parse(mute.until) <= Date.now())
      throw new ChatError('NOT_FOUND', `${target.username} is not muted ${req.roomId ? `in "${req.roomId}"` : 'server-wide'}`);
    const event = makeEvent<UserUnmuted>(eventContext(cmd.actor, cmd.correlationId), 'UserUnmuted', 1, {
      muteId: mute.muteId,
      userId: target.userId,
      username: target.username,
      roomId: mute.roomId,
      reason: 'lifted',
      ...byFields(cmd.actor),
    });
    // Same msgId as the expiry: a lift racing the mute's expiry stores one end of the mute.
    const r = await store(this.log, this.s.moderation.user(target.userId), event, expiryMsgId(mute.muteId));
    if (!r.duplicate)
      this.news.send(target.userId, 'moderation.unmuted', { muteId: mute.muteId, roomId: mute.roomId, reason: 'lifted', time: event.time });
    return { position: r.seq };
  }

  /** moderation.mutes: a room's mutes (room staff or server roles), or every mute in force (server roles). */
  async list(cmd: ModCommand, roomId: string | undefined): Promise<MuteView[]> {
    if (roomId) await this.perms.requireRoomStaff(cmd.actor, roomId, cmd.correlationId);
    else this.perms.requireServerRole(cmd.actor);
    return mutesIn(this.mutes, roomId, Date.now());
  }

  async warn(cmd: ModCommand, req: { userId: string; reason: string }): Promise<{ position: number }> {
    const target = await this.authorise(cmd, req.userId, null, 'warn');
    return { position: await this.storeWarning(cmd.actor, target, req.reason, null, cmd.correlationId) };
  }

  /** moderation.kick: every gateway closes the user's connections (4413); they may log in again. */
  async kick(cmd: ModCommand, req: { userId: string; reason?: string }): Promise<{ position: number }> {
    const target = await this.authorise(cmd, req.userId, null, 'kick');
    const event = makeEvent<UserServerKicked>(eventContext(cmd.actor, cmd.correlationId), 'UserServerKicked', 1, {
      ...target,
      reason: req.reason ?? '',
      ...byFields(cmd.actor),
    });
    return { position: (await store(this.log, this.s.moderation.access(target.userId), event)).seq };
  }

  /**
   * moderation.ban: server-wide; every gateway closes the user's connections (4412) and refuses
   * their login. A ban waiting for review (automatic) may be confirmed by banning again;
   * banning a user banned by a moderator is a CONFLICT.
   */
  async ban(cmd: ModCommand, req: { userId: string; reason?: string }): Promise<{ position: number }> {
    const target = await this.authorise(cmd, req.userId, null, 'ban');
    const current = this.bans.get(target.userId);
    if (current && !current.review) throw new ChatError('CONFLICT', `${target.username} is already banned`);
    return { position: await this.storeBan(cmd.actor, target, req.reason ?? '', false, null, cmd.correlationId) };
  }

  async unban(cmd: ModCommand, req: { userId: string }): Promise<{ position: number }> {
    this.perms.requireServerRole(cmd.actor);
    const ban = this.bans.get(req.userId);
    if (!ban) throw new ChatError('NOT_FOUND', `user "${req.userId}" is not banned`);
    const event = makeEvent<UserServerUnbanned>(eventContext(cmd.actor, cmd.correlationId), 'UserServerUnbanned', 1, {
      userId: ban.userId,
      username: ban.username,
      ...byFields(cmd.actor),
    });
    return { position: (await store(this.log, this.s.moderation.access(ban.userId), event)).seq };
  }

  banList(cmd: ModCommand): ServerBanView[] {
    this.perms.requireServerRole(cmd.actor);
    return banViews(this.bans);
  }

  /** The user's mutes in force, soonest-ending first. */
  mutesOf(userId: string): MuteView[] {
    return mutesOf(this.mutes, userId, Date.now());
  }

  // ---- Appends shared by the operations and the automatic paths ----
  // With a msgId the append is stored once (a retry, another replica) and the ids it makes are
  // derived from the msgId (eventContext), so a duplicate names what was stored.

  async storeMute(
    by: UserView | null,
    target: UserView,
    roomId: string | null,
    seconds: number,
    reason: string,
    rule: string | null,
    correlationId?: string,
    msgId?: string,
    causationId?: string | null,
  ): Promise<{ position: number; mute: MuteView }> {
    const ctx = eventContext(by, correlationId, msgId, causationId);
    const event = makeEvent<UserMuted>(ctx, 'UserMuted', 1, {
      muteId: ctx.newId(),
      userId: target.userId,
      username: target.username,
      roomId,
      until: new Date(ctx.now().getTime() + seconds * 1000).toISOString(),
      reason,
      rule,
      ...byFields(by),
    });
    const r = await store(this.log, this.s.moderation.user(target.userId), event, msgId);
    // A duplicate (a retried automatic mute) was stored before: its view is whatever the fold has.
    const mute = this.mutes.byId.get(event.payload.muteId) ?? muteOfScope(this.mutes, target.userId, roomId);
    if (!mute) throw new ChatError('CONFLICT', 'the mute ended before it could be read back; try again');
    if (!r.duplicate) this.news.send(target.userId, 'moderation.muted', mute);
    return { position: r.seq, mute };
  }

  async storeWarning(
    by: UserView | null,
    target: UserView,
    reason: string,
    rule: string | null,
    correlationId?: string,
    msgId?: string,
    causationId?: string | null,
  ): Promise<number> {
    const ctx = eventContext(by, correlationId, msgId, causationId);
    const event = makeEvent<UserWarned>(ctx, 'UserWarned', 1, { ...target, reason, rule, ...byFields(by) });
    const r = await store(this.log, this.s.moderation.user(target.userId), event, msgId);
    if (!r.duplicate) this.news.send(target.userId, 'moderation.warned', { reason, by, rule, time: event.time });
    return r.seq;
  }

  async storeBan(
    by: UserView | null,
    target: UserView,
    reason: string,
    review: boolean,
    rule: string | null,
    correlationId?: string,
    msgId?: string,
  ): Promise<number> {
    const event = makeEvent<UserServerBanned>(eventContext(by, correlationId, msgId), 'UserServerBanned', 1, {
      ...target,
      reason,
      review,
      rule,
      ...byFields(by),
    });
    return (await store(this.log, this.s.moderation.access(target.userId), event, msgId)).seq;
  }

  /**
   * Who may sanction whom: a room-scope mute needs room staff (or a server role), anything else a
   * server role; nobody sanctions an administrator or themselves, and only administrators
   * sanction moderators. Room staff without a server role follow the room's ranks as room.kick
   * and room.ban do: the room's owner only by server staff, its admins only by the owner.
   * Resolves the target (NOT_FOUND when no account has the id).
   */
  private async authorise(cmd: ModCommand, userId: string, roomId: string | null, what: string): Promise<UserView> {
    let roomRole: 'owner' | 'admin' | null = null;
    if (roomId) roomRole = await this.perms.roomStaffRole(cmd.actor, roomId, cmd.correlationId);
    else this.perms.requireServerRole(cmd.actor);
    if (userId === cmd.actor.userId) throw new ChatError('FORBIDDEN', `you cannot ${what} yourself`);
    const target = await this.users.requireById(userId);
    mustOutrank(this.perms.serverRole(cmd.actor.userId, cmd.actor.username), this.perms.serverRole(target.userId, target.username));
    if (roomId) await this.perms.requireRoomOutranks(roomRole, target, roomId, cmd.correlationId);
    return target;
  }
}
