import type { MessageEvent } from '@chat/contracts';
import type { ModerationSubscriber, SubscriberContext, Verdict } from '../subscriber';

export interface NewAccountFloodOptions {
  /** Accounts younger than this (at the time of the message) are watched, in ms. */
  accountAgeMs: number;
  /** Messages a new account may post within the window; the one after them mutes it. */
  messages: number;
  windowMs: number;
  /** Length of the server-wide mute, in seconds. */
  muteSeconds: number;
}

/** Users remembered at once; the one quiet the longest is forgotten first. */
const USERS_MAX = 50_000;

/**
 * New-account flood: an account younger than `accountAgeMs` posting more than `messages`
 * messages within the window gets a timed server-wide mute. The account's age comes from its
 * UserRegistered (`ctx.accountRegisteredAt`); older accounts and users without one are left
 * alone (and not remembered). Counting follows the events' stored times and each message id
 * counts once (a redelivery is not a new message); after a mute the count starts again.
 */
export class NewAccountFloodSubscriber implements ModerationSubscriber<'messages'> {
  readonly name = 'new-account-flood';
  readonly source = 'messages' as const;
  private readonly recent = new Map<string, Array<{ messageId: string; at: number }>>();

  constructor(private readonly opts: NewAccountFloodOptions) {}

  async handle(event: MessageEvent, ctx: SubscriberContext): Promise<Verdict[]> {
    if (event.type !== 'MessagePosted') return [];
    const p = event.payload;
    const at = Date.parse(event.time);
    const registered = await ctx.accountRegisteredAt(p.senderId);
    if (!registered || at - registered.getTime() >= this.opts.accountAgeMs) return [];

    const posts = (this.recent.get(p.senderId) ?? []).filter((x) => x.at > at - this.opts.windowMs);
    if (!posts.some((x) => x.messageId === p.messageId)) posts.push({ messageId: p.messageId, at });
    this.recent.delete(p.senderId);
    if (posts.length <= this.opts.messages) {
      this.recent.set(p.senderId, posts);
      if (this.recent.size > USERS_MAX) this.recent.delete(this.recent.keys().next().value as string);
      return [];
    }
    const windowS = this.opts.windowMs / 1000;
    return [
      {
        kind: 'mute',
        userId: p.senderId,
        username: p.senderName,
        roomId: null,
        seconds: this.opts.muteSeconds,
        reason: `new account flood: ${posts.length} messages within ${windowS} s`,
      },
    ];
  }
}
