import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ModerationNewsName, Subjects, UserModerationNews, UserView, WsEvents } from '@chat/contracts';
import { encodeJson } from '@chat/messaging';
import { NATS, SUBJECTS } from '@chat/platform';

/**
 * Live moderation news for users, published on core NATS (not stored): the gateways holding
 * the user's connections forward `{ event, data }` as a `moderation.*` event (position 0).
 * Published by the replica that stored the change (once), after its own fold has it. A user
 * offline at the time learns their standing from `mod.me` on connecting.
 */
@Injectable()
export class ModerationNews {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  send<E extends ModerationNewsName>(userId: string, event: E, data: WsEvents[E]): void {
    const frame = { event, data } as UserModerationNews;
    this.nc.publish(this.s.live.userModeration(userId), encodeJson(frame));
  }

  /** The same news to several users (report changes, to every moderator and administrator). */
  sendAll<E extends ModerationNewsName>(users: UserView[], event: E, data: WsEvents[E]): void {
    for (const u of users) this.send(u.userId, event, data);
  }
}
