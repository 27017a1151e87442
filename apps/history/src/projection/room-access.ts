import { Injectable } from '@nestjs/common';
import { ChatError } from '@chat/contracts';
import { MembershipQueries, readRefusal } from '../membership';
import { ProjectionProgress } from './progress';

/**
 * The authorisation every room-scoped read of history shares (history.page, history.message,
 * read.mark, a search limited to one room). It reads its writes: a user acknowledged a join
 * may read the room at once, and one acknowledged a leave is refused at once. So it first
 * waits (bounded) until every event about the caller on the room's …meta subject is in the
 * membership tables, and answers UNAVAILABLE (retry) if they are still behind, never a
 * decision on an older membership. Then a missing or deleted room, and a private room or
 * conversation the caller is not in, all answer the same NOT_FOUND; a public room the caller
 * is not in, FORBIDDEN (unless `publicToAll`).
 */
@Injectable()
export class RoomAccess {
  /** How long an authorisation waits for the caller's room events to be projected. */
  static readonly catchUpWaitMs = 2000;

  constructor(
    private readonly progress: ProjectionProgress,
    private readonly membership: MembershipQueries,
  ) {}

  /** Resolves when `userId` may read `roomId`; throws the ChatError to answer otherwise. */
  async authorise(roomId: string, userId: string, opts: { publicToAll?: boolean } = {}): Promise<void> {
    if (!(await this.progress.membershipCaughtUp(roomId, userId, RoomAccess.catchUpWaitMs)))
      throw new ChatError('UNAVAILABLE', 'history is still catching up with this room; retry');
    const [room, standing] = await Promise.all([this.membership.room(roomId), this.membership.standing(roomId, userId)]);
    const refusal = readRefusal(roomId, room, standing);
    if (refusal && !(opts.publicToAll && refusal.code === 'FORBIDDEN')) throw new ChatError(refusal.code, refusal.message);
  }
}
