import { Inject, Injectable } from '@nestjs/common';
import { decodeAccountEvent, fail, ok, type Result, type Subjects } from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';
import { ServerBans, serverBanned } from './server-bans';
import { isExpired } from './session-records';
import { SessionStore } from './session-store';
import { TokenService, type VerifiedToken } from './tokens';

/**
 * Whether an access token may be used now: its signature and expiry (TokenService), and that its
 * session still exists (one KV get). The WebSocket `auth` and every Bearer HTTP route ask this.
 * A token of an ended session is SESSION_REVOKED, or ACCOUNT_DISABLED when the account was
 * disabled (disabling ends every session, so this is only looked up on a miss). A token of a
 * user banned from the server is SERVER_BANNED (their sessions are kept: an unban lets them in
 * again); it is asked last, after the awaits, so a ban handled meanwhile is seen.
 */
@Injectable()
export class SessionCheck {
  constructor(
    private readonly tokens: TokenService,
    private readonly store: SessionStore,
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    private readonly bans: ServerBans,
  ) {}

  async verifyAccess(token: string): Promise<Result<VerifiedToken>> {
    const verified = this.tokens.verify(token);
    if (!verified.ok) return verified;
    const found = await this.store.get(verified.data.sessionId);
    if (found && found.record.userId === verified.data.user.userId && !isExpired(found.record, new Date())) {
      const ban = this.bans.banOf(verified.data.user.userId);
      return ban ? fail('SERVER_BANNED', serverBanned(ban).message) : verified;
    }
    return this.ended(verified.data.user.userId);
  }

  /** The error for a session that no longer exists: ACCOUNT_DISABLED or SESSION_REVOKED. */
  async ended(userId: string): Promise<Result<never>> {
    if (await this.isDisabled(userId)) return fail('ACCOUNT_DISABLED', 'this account has been disabled by an administrator');
    return fail('SESSION_REVOKED', 'this session has ended; log in again');
  }

  /**
   * From the account's last event (UserDisabled until a UserEnabled or UserDeleted follows):
   * the caller knows the user id only, and the account record is keyed by name.
   */
  private async isDisabled(userId: string): Promise<boolean> {
    const last = await this.js.lastOnSubject(this.s.streams.accounts.name, this.s.accounts.events(userId)).catch(() => null);
    if (!last) return false;
    const decoded = decodeAccountEvent(last.data);
    return decoded.ok && decoded.event.type === 'UserDisabled';
  }
}
