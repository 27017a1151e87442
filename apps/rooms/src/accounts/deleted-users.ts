import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ChatError, decodeAccountEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';

/**
 * The deleted accounts, known to every rooms replica: each follows the ACCOUNTS stream (its
 * UserDeleted events; an ordered consumer, from the start) and the replica that removes a
 * deleted user from their rooms notes the user before it starts. Room and message commands of a
 * deleted user are refused with SESSION_REVOKED: a connection of theirs still open on some
 * gateway (its revocation on the way) cannot join, post or re-join a room after the removal. A
 * deletion is final, so the set only grows (one id per deleted account).
 */
@Injectable()
export class DeletedUsers implements OnApplicationShutdown {
  private readonly deleted = new Set<string>();
  private stopFollow?: () => Promise<void>;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  /** Reads every stored account event, then keeps following; resolves once caught up. */
  async start(): Promise<void> {
    const f = await this.js.follow(this.s.streams.accounts.name, this.s.accounts.all, (m) => this.onEvent(m));
    this.stopFollow = f.stop;
    await f.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopFollow?.();
  }

  note(userId: string): void {
    this.deleted.add(userId);
  }

  isDeleted(userId: string): boolean {
    return this.deleted.has(userId);
  }

  /** Throws SESSION_REVOKED when `userId` (the caller of a command) is a deleted account. */
  refuse(userId: string): void {
    if (this.deleted.has(userId)) throw new ChatError('SESSION_REVOKED', 'this account has been deleted');
  }

  private onEvent(m: Delivered): void {
    const decoded = decodeAccountEvent(m.raw ?? m.data);
    if (decoded.ok && decoded.event.type === 'UserDeleted') this.deleted.add(decoded.event.payload.userId);
  }
}
