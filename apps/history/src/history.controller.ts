import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChatError, Rpc, type CallerRpc, type ConversationView, type HistoryPage, type HistoryPageRpc } from '@chat/contracts';
import { PINO } from '@chat/platform';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './db/errors';
import { MembershipQueries, readRefusal } from './membership';
import { MessageQueries } from './messages';
import { pageSize, toPage, toView } from './messages/page';
import { ProjectionProgress } from './projection/progress';

/**
 * NATS adapter for history reads. History is the authority on who may read a room: the caller
 * (`userId`, set by the gateway from the verified token) must be a member according to the
 * membership read model, whatever the caller's own checks said (docs/rooms.md, Reading).
 */
@Controller()
export class HistoryController {
  constructor(
    private readonly messages: MessageQueries,
    private readonly membership: MembershipQueries,
    private readonly progress: ProjectionProgress,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  /** How long a read waits for the projection to reach the room's last message / the caller's last room event. */
  static readonly catchUpWaitMs = 2000;

  /**
   * Authorisation reads its writes: a user acknowledged a join may page the room at once, and
   * one acknowledged a leave is refused at once. So before deciding, the read waits (bounded)
   * until every event about the caller on the room's …meta subject is in the membership table;
   * if it is still behind after the wait, the answer is UNAVAILABLE (retry), never a decision on
   * an older membership. A missing or deleted room, and a private room or conversation the
   * caller is not in, all answer the same NOT_FOUND; a public room the caller is not in,
   * FORBIDDEN.
   *
   * Read-your-writes for the newest page: a client that was just acked (or reconnects after
   * missing live events) must find every accepted message in it. The projection runs behind
   * the stream by a few milliseconds, so the read waits (bounded) until every event of the room
   * up to its last stored message is in the tables. A page that would still miss one after
   * the wait is not served: the client gets UNAVAILABLE and retries, instead of a page with a
   * hole it would take as complete. Older pages (`before`) are served as they are.
   */
  @MessagePattern(Rpc.historyPage)
  async page(@Payload() req: HistoryPageRpc): Promise<HistoryPage> {
    const limit = pageSize(req.limit);
    const wait = HistoryController.catchUpWaitMs;
    try {
      // Both waits start at once, but a refused caller is answered without waiting for the
      // room's messages (so a hidden room answers as fast as a missing one, however far behind
      // its messages are).
      const messagesWait = req.before === undefined ? this.progress.caughtUp(req.roomId, wait) : Promise.resolve(true);
      messagesWait.catch(() => undefined); // awaited below unless the caller is refused
      const membershipReady = await this.progress.membershipCaughtUp(req.roomId, req.userId, wait);
      if (!membershipReady) {
        this.logger.debug(
          { roomId: req.roomId, userId: req.userId },
          "authorisation: membership projection still behind the caller's room events",
        );
        throw new ChatError('UNAVAILABLE', 'history is still catching up with this room; retry');
      }
      const [room, standing] = await Promise.all([this.membership.room(req.roomId), this.membership.standing(req.roomId, req.userId)]);
      const refusal = readRefusal(req.roomId, room, standing);
      if (refusal) throw new ChatError(refusal.code, refusal.message);
      if (!(await messagesWait)) {
        this.logger.debug({ roomId: req.roomId }, 'newest page: projection still behind the room after the wait');
        throw new ChatError('UNAVAILABLE', 'history is still catching up with this room; retry');
      }
      // One row more than asked tells whether an older page exists.
      const rows = await this.messages.newestFirst(req.roomId, req.before, limit + 1);
      return toPage(req.roomId, rows, limit);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }

  /**
   * The caller's conversations that have a message, each with the other participant and the
   * newest message, newest first (dm.list). Waits (bounded) for the projection to reach what the
   * stream held at the call, so a message the caller was just acknowledged is listed; after the
   * wait the list is served as it stands (a list a moment old beats no list).
   */
  @MessagePattern(Rpc.historyConversations)
  async conversations(@Payload() req: CallerRpc): Promise<{ conversations: ConversationView[] }> {
    try {
      if (!(await this.progress.streamCaughtUp(HistoryController.catchUpWaitMs)))
        this.logger.debug({ userId: req.userId }, 'conversations: projection still behind the stream after the wait; serving as it stands');
      const rows = await this.membership.conversations(req.userId);
      return {
        conversations: rows.map((c) => ({
          roomId: c.roomId,
          peer: { userId: c.peerId, username: c.peerName },
          lastMessage: toView(c.lastMessage),
        })),
      };
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }
}
