import { randomUUID } from 'node:crypto';
import {
  ChatError,
  decodeModerationEvent,
  makeEvent,
  usernameKey,
  type Actor,
  type ModerationEvent,
  type ServerRoleSet,
  type UserServerBanned,
  type UserServerUnbanned,
  type UserView,
} from '@chat/contracts';
import { AppendOutcomeUnknown, AppendRefused, JetStreamAdapter, decodeJson } from '@chat/messaging';
import { isServerAdmin } from '@chat/platform';
import { ApiCode, apiCodeOf, type Deployment } from './deployment';

/** Events the tool appends name it as their actor; the audit log shows them as the operator's. */
export const ADMIN_ACTOR: Actor = { kind: 'system', id: 'admin-cli' };

/**
 * The operator's account commands, written as the services' own events on the streams they
 * already follow, so nothing new has to be taught to them:
 * - create-admin appends ServerRoleSet (role admin) to `ns.mod.roles.<userId>`, as
 *   moderation.setRole does; every moderation replica folds it, the web client shows the
 *   administration panel. It solves the first-administrator problem (setRole needs an
 *   administrator already) without SERVER_ADMINS and a restart of every service.
 * - disable-user / enable-user append UserServerBanned / UserServerUnbanned to
 *   `ns.mod.access.<userId>`, as moderation.ban does: every gateway closes the user's
 *   connections (4412) and refuses their login, refresh and tokens until enabled again.
 * Each reads the subject first and appends expecting it unchanged (a concurrent change is a
 * CONFLICT, nothing appended); a command that would change nothing is refused the same way.
 */
export class UserCommands {
  private readonly adapter: JetStreamAdapter;

  constructor(private readonly d: Deployment) {
    this.adapter = new JetStreamAdapter(d.nc);
  }

  /** The account registered under this name (after NFKC and case folding), from the accounts KV bucket. */
  async findUser(username: string): Promise<UserView> {
    const bucket = this.d.s.kv.accounts;
    let raw;
    try {
      raw = await this.d.jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${usernameKey(username)}` });
    } catch (err) {
      if (apiCodeOf(err) === ApiCode.noMessageFound) raw = null;
      else if (apiCodeOf(err) === ApiCode.streamNotFound) throw notStarted(`KV bucket ${bucket}`);
      else throw unavailable(err);
    }
    const op = raw?.header?.get('KV-Operation');
    const record =
      raw && !op ? (decodeJson(raw.data) as { userId?: unknown; username?: unknown; deleted?: unknown } | undefined) : undefined;
    if (!record || typeof record.userId !== 'string' || typeof record.username !== 'string' || record.deleted === true)
      throw new ChatError('NOT_FOUND', `no account named "${username}" (register it first: web client or POST /api/auth/register)`);
    return { userId: record.userId, username: record.username };
  }

  async createAdmin(username: string): Promise<{ user: UserView; position: number }> {
    const user = await this.findUser(username);
    if (isServerAdmin(this.d.config, user.username))
      throw new ChatError('CONFLICT', `${user.username} is already an administrator by configuration (SERVER_ADMINS)`);
    const subject = this.d.s.moderation.role(user.userId);
    const last = await this.last(subject);
    if (last?.event.type === 'ServerRoleSet' && last.event.payload.role === 'admin')
      throw new ChatError('CONFLICT', `${user.username} is already an administrator`);
    // byUserId must name an account: the new administrator, the only one this grant can name.
    const event = makeEvent<ServerRoleSet>(context(), 'ServerRoleSet', 1, {
      ...user,
      role: 'admin',
      byUserId: user.userId,
      byUsername: user.username,
    });
    return { user, position: await this.append(subject, event, last?.seq ?? 0) };
  }

  async disableUser(username: string, reason: string): Promise<{ user: UserView; position: number }> {
    const user = await this.findUser(username);
    if (isServerAdmin(this.d.config, user.username) || (await this.role(user.userId)) === 'admin')
      throw new ChatError(
        'FORBIDDEN',
        `${user.username} is a server administrator: take the role away first (a server administrator cannot be sanctioned)`,
      );
    const subject = this.d.s.moderation.access(user.userId);
    const { banned, lastSeq } = await this.banState(subject);
    if (banned) throw new ChatError('CONFLICT', `${user.username} is already disabled (banned from the server)`);
    const event = makeEvent<UserServerBanned>(context(), 'UserServerBanned', 1, {
      ...user,
      reason,
      review: false,
      rule: null,
      byUserId: null,
      byUsername: null,
    });
    return { user, position: await this.append(subject, event, lastSeq) };
  }

  async enableUser(username: string): Promise<{ user: UserView; position: number }> {
    const user = await this.findUser(username);
    const subject = this.d.s.moderation.access(user.userId);
    const { banned, lastSeq } = await this.banState(subject);
    if (!banned) throw new ChatError('CONFLICT', `${user.username} is not disabled`);
    const event = makeEvent<UserServerUnbanned>(context(), 'UserServerUnbanned', 1, { ...user, byUserId: null, byUsername: null });
    return { user, position: await this.append(subject, event, lastSeq) };
  }

  private async role(userId: string): Promise<string | null> {
    const last = await this.last(this.d.s.moderation.role(userId));
    return last?.event.type === 'ServerRoleSet' ? last.event.payload.role : null;
  }

  /** Whether the last ban or unban on the user's access subject is a ban (kicks do not count), and the subject's last position. */
  private async banState(subject: string): Promise<{ banned: boolean; lastSeq: number }> {
    let banned = false;
    let lastSeq = 0;
    for (let seq = 1; ;) {
      const m = await this.read(() => this.adapter.nextOnSubject(this.d.s.streams.moderation.name, subject, seq));
      if (!m) return { banned, lastSeq };
      const decoded = decodeModerationEvent(m.data);
      if (decoded.ok && decoded.event.type === 'UserServerBanned') banned = true;
      if (decoded.ok && decoded.event.type === 'UserServerUnbanned') banned = false;
      lastSeq = m.seq;
      seq = m.seq + 1;
    }
  }

  private async last(subject: string): Promise<{ event: ModerationEvent; seq: number } | null> {
    const m = await this.read(() => this.adapter.lastOnSubject(this.d.s.streams.moderation.name, subject));
    if (!m) return null;
    const decoded = decodeModerationEvent(m.data);
    if (!decoded.ok) throw new ChatError('INTERNAL', `unreadable event at position ${m.seq} of ${subject}; nothing was changed`);
    return { event: decoded.event, seq: m.seq };
  }

  private async read<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (apiCodeOf(err) === ApiCode.streamNotFound) throw notStarted(`stream ${this.d.s.streams.moderation.name}`);
      throw unavailable(err);
    }
  }

  private async append(subject: string, event: ModerationEvent, expected: number): Promise<number> {
    try {
      return (await this.adapter.append(subject, event, { msgId: event.id, expectLastSubjectSequence: expected })).seq;
    } catch (err) {
      if (err instanceof AppendRefused && err.reason === 'wrong-last-sequence')
        throw new ChatError('CONFLICT', 'changed concurrently (by a moderator or another command); nothing was appended, try again');
      if (err instanceof AppendOutcomeUnknown)
        throw new ChatError(
          'UNAVAILABLE',
          `no answer from the stream: the change may or may not be stored; run the command again to settle it`,
        );
      throw unavailable(err);
    }
  }
}

const context = () => ({ now: () => new Date(), newId: randomUUID, actor: ADMIN_ACTOR, correlationId: randomUUID() });

const notStarted = (what: string) =>
  new ChatError('UNAVAILABLE', `${what} does not exist: is NATS_NAMESPACE right, and have the services been started once?`);

const unavailable = (err: unknown) => new ChatError('UNAVAILABLE', `NATS did not answer: ${(err as Error)?.message ?? err}`);
