import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ChatError,
  Rpc,
  type CallerRpc,
  type ConversationView,
  type HistoryMessageRpc,
  type HistoryPage,
  type HistoryPageRpc,
  type MessageView,
} from '@chat/contracts';
import { PINO } from '@chat/platform';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './db/errors';
import { MembershipQueries } from './membership';
import { MessageQueries } from './messages';
import type { StoredMessage } from './messages/message.sql-row';
import type { Decorations } from './messages/messages.store';
import { aroundPage, pageRequest, pageSize, toPage, toView, type PageRequest } from './messages/page';
import { ProjectionProgress } from './projection/progress';
import { RoomAccess } from './projection/room-access';

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
    private readonly access: RoomAccess,
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
   * Read-your-writes for every page that may reach the newest message (no cursor, `after`,
   * `around`, `at`): a client that was just acked (or reconnects after missing live events)
   * must find every accepted message in it. The projection runs behind the stream by a few
   * milliseconds, so the read waits (bounded) until every event of the room up to its last
   * stored message event is in the tables. A page that would still miss one after the wait is
   * not served: the client gets UNAVAILABLE and retries, instead of a page with a hole it would
   * take as complete. Older pages (`before`) are served as they are.
   *
   * Every page is keyset reads on (room_id, position) (never OFFSET), newest first, plus one
   * query for the reactions of its messages and one for the messages they quote.
   */
  @MessagePattern(Rpc.historyPage)
  async page(@Payload() req: HistoryPageRpc): Promise<HistoryPage> {
    // The DTO checks each cursor; "at most one" spans fields, so it is checked here.
    const cursor = pageRequest(req);
    if (typeof cursor === 'string') throw new ChatError('BAD_REQUEST', cursor);
    const limit = pageSize(req.limit);
    return this.readable(req.roomId, req.userId, cursor.kind !== 'before', {}, () => this.readPage(req.roomId, cursor, limit));
  }

  /**
   * One message as it is now (history.message): the same authorisation and catch-up wait as the
   * newest page, so a message whose post was just acknowledged is found. NOT_FOUND for an
   * unknown message or one of another room; a deleted message is returned with `deleted` set
   * (the caller decides what that means for it).
   */
  @MessagePattern(Rpc.historyMessage)
  async message(@Payload() req: HistoryMessageRpc): Promise<MessageView> {
    // Only the rooms service asks (no client op reaches it), after deciding who may act: a
    // server administrator may moderate a public room without being a member, so a public
    // room's messages are answered to non-members too; hidden rooms stay NOT_FOUND.
    return this.readable(req.roomId, req.userId, true, { publicToAll: true }, async () => {
      const row = await this.messages.byId(req.roomId, req.messageId);
      if (!row) throw new ChatError('NOT_FOUND', 'no such message in this room');
      return toView(row, await this.messages.decorations([row]));
    });
  }

  /**
   * Runs a read of the room for the caller: waits for the caller's membership events (and, with
   * `newest`, for the room's message events) to be projected, authorises, then reads. A database
   * that cannot serve is UNAVAILABLE.
   */
  private async readable<T>(
    roomId: string,
    userId: string,
    newest: boolean,
    opts: { publicToAll?: boolean },
    read: () => Promise<T>,
  ): Promise<T> {
    const wait = HistoryController.catchUpWaitMs;
    try {
      // Both waits start at once, but a refused caller is answered without waiting for the
      // room's messages (so a hidden room answers as fast as a missing one, however far behind
      // its messages are).
      const messagesWait = newest ? this.progress.caughtUp(roomId, wait) : Promise.resolve(true);
      messagesWait.catch(() => undefined); // awaited below unless the caller is refused
      await this.access.authorise(roomId, userId, opts);
      if (!(await messagesWait)) {
        this.logger.debug({ roomId }, 'newest messages: projection still behind the room after the wait');
        throw new ChatError('UNAVAILABLE', 'history is still catching up with this room; retry');
      }
      return await read();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }

  private async readPage(roomId: string, cursor: PageRequest, limit: number): Promise<HistoryPage> {
    const q = this.messages;
    const decorated = async (build: (d: Decorations) => HistoryPage, rows: StoredMessage[]) => build(await q.decorations(rows));
    switch (cursor.kind) {
      case 'newest':
      case 'before': {
        // One row more than asked tells whether an older page exists.
        const rows = await q.newestFirst(roomId, cursor.kind === 'before' ? cursor.position : undefined, limit + 1);
        const page = rows.slice(0, limit);
        const newer = cursor.kind === 'before' && page.length > 0 && (await q.has(roomId, '>', page[0].position));
        return decorated((d) => toPage(roomId, rows, limit, newer, d), page);
      }
      case 'after': {
        const rows = await q.oldestFirst(roomId, cursor.position, limit + 1);
        const page = rows.slice(0, limit);
        const older = page.length > 0 && (await q.has(roomId, '<', page[0].position));
        return decorated((d) => {
          const newestFirst = [...page].reverse();
          const built = toPage(roomId, newestFirst, limit, rows.length > limit, d);
          return { ...built, nextBefore: older ? page[0].position : null };
        }, page);
      }
      case 'around':
      case 'at': {
        // The anchor is the first message at or after the position (or time); it and the newer
        // ones come from one forward read, the older ones from one backward read.
        const from = cursor.kind === 'around' ? cursor.position : await q.firstAtOrAfter(roomId, cursor.time);
        const [anchor, ...newer] = from === null ? [] : await q.oldestFirst(roomId, from - 1, limit + 1);
        if (!anchor) return this.readPage(roomId, { kind: 'newest' }, limit);
        const older = await q.newestFirst(roomId, anchor.position, limit);
        return decorated((d) => aroundPage(roomId, anchor, older, newer, limit, d), [anchor, ...older, ...newer]);
      }
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
      const decorations = await this.messages.decorations(rows.map((c) => c.lastMessage));
      return {
        conversations: rows.map((c) => ({
          roomId: c.roomId,
          peer: { userId: c.peerId, username: c.peerName },
          lastMessage: toView(c.lastMessage, decorations),
        })),
      };
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }
}
