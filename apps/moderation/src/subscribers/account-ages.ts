import { Inject, Injectable } from '@nestjs/common';
import { decodeAccountEvent, isUserId, type Subjects } from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';

/** Registration times never change, so a found one is remembered; bounded so many users cannot grow it without end. */
const CACHE_MAX = 50_000;

/**
 * When accounts registered, for subscribers (`ctx.accountRegisteredAt`): the time of the
 * account's UserRegistered, the first event on its subject of the accounts stream, read once
 * per user (one direct get) and then remembered. A user with no such event (yet) is not
 * remembered, so a lookup after the registration is stored finds it.
 */
@Injectable()
export class AccountAges {
  private readonly cache = new Map<string, Date>();

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  async registeredAt(userId: string): Promise<Date | null> {
    const known = this.cache.get(userId);
    if (known) return known;
    if (!isUserId(userId)) return null;
    const first = await this.js.nextOnSubject(this.s.streams.accounts.name, this.s.accounts.events(userId), 1);
    if (!first) return null;
    const decoded = decodeAccountEvent(first.data);
    if (!decoded.ok || decoded.event.type !== 'UserRegistered' || decoded.event.payload.userId !== userId) return null;
    const at = new Date(decoded.event.time);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(userId, at);
    return at;
  }
}
