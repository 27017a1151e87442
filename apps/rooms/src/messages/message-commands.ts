import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ChatError, MODERATION_USER, type EventContext, type MessageView, type Subjects } from '@chat/contracts';
import { AppendRefused, JetStreamAdapter, RpcClient } from '@chat/messaging';
import { CONFIG, SUBJECTS, isServerAdmin } from '@chat/platform';
import type { RoomsConfig } from '../config';
import { isLive } from '../room/room';
import { roomNotFound } from '../room/room.decide';
import { RoomStore } from '../room/room.store';
import { MessageLookup } from './message-lookup';
import { decideMessage, decideModeratorDelete, messageAccess, type MessageCommand } from './message.decide';
import { acceptedBody, checkRequest } from './moderation-verdict';

/** What a change to a message answers: the message and the change's own stream position. */
export interface MessageAck {
  roomId: string;
  messageId: string;
  position: number;
}

/**
 * Edits, deletions and reactions: the room's rules on this replica's state (membership, roles,
 * blocks), the message as the history service holds it (author, room, deleted, reactions;
 * `history.message`), moderation for a new text, then one append to `…room.<id>.msg`. No
 * expected sequence: like posts, these changes interleave freely with messages, and history
 * re-checks them at their position (the stream decides).
 */
@Injectable()
export class MessageCommandHandler {
  private readonly log = new Logger(MessageCommandHandler.name);

  constructor(
    private readonly store: RoomStore,
    private readonly js: JetStreamAdapter,
    private readonly rpc: RpcClient,
    private readonly messages: MessageLookup,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: RoomsConfig,
  ) {}

  async edit(
    req: { roomId: string; messageId: string; body: string; userId: string; username: string },
    correlationId: string,
  ): Promise<MessageAck> {
    const cmd: MessageCommand = { type: 'EditMessage', roomId: req.roomId, messageId: req.messageId, actor: caller(req), body: req.body };
    const message = await this.authorisedLookup(cmd, correlationId);
    const ctx = this.context(req.userId, correlationId);
    // Every refusal the rules give comes before moderation, as for a post.
    decideMessage(this.store.get(req.roomId), cmd, message, ctx);
    const check = checkRequest(this.store.get(req.roomId), req, 'edit');
    const body = acceptedBody(await this.rpc.callOrThrow('moderation.check', check, { correlationId }));
    return this.append(decideMessage(this.store.get(req.roomId), { ...cmd, body }, message, ctx));
  }

  async delete(req: { roomId: string; messageId: string; userId: string; username: string }, correlationId: string): Promise<MessageAck> {
    const serverAdmin = isServerAdmin(this.config, req.username);
    return this.run(
      { type: 'DeleteMessage', roomId: req.roomId, messageId: req.messageId, actor: caller(req), serverAdmin },
      correlationId,
    );
  }

  /**
   * `rooms.moderatorDelete`: the moderation service removes a message on a rule's verdict
   * (decideModeratorDelete). History answers a room's members: it is asked as one of them (any
   * member sees every message of the room), so private rooms and conversations work too.
   */
  async moderatorDelete(
    req: { roomId: string; messageId: string; reason: string; rule: string },
    correlationId: string,
  ): Promise<MessageAck> {
    // A room this replica does not know yet may have just been created elsewhere: catch up once.
    if (!isLive(this.store.get(req.roomId))) {
      const latest = await this.store.latestVersion(req.roomId);
      if (latest > this.store.versionOf(req.roomId)) await this.store.waitForVersion(req.roomId, latest);
    }
    const room = this.store.get(req.roomId);
    const ctx: EventContext = { now: () => new Date(), newId: randomUUID, actor: { kind: 'service', id: 'moderation' }, correlationId };
    if (!isLive(room)) throw roomNotFound(req.roomId);
    const asker = room.members.keys().next().value ?? MODERATION_USER.userId;
    const message = await this.messages.find(req.roomId, req.messageId, asker, correlationId);
    const ack = await this.append(decideModeratorDelete(this.store.get(req.roomId), req, message, ctx));
    this.log.log({ msg: 'message removed on a moderation rule', ...ack, rule: req.rule, reason: req.reason });
    return ack;
  }

  react(
    req: { roomId: string; messageId: string; emoji: string; userId: string; username: string },
    adding: boolean,
    correlationId: string,
  ): Promise<MessageAck> {
    const type = adding ? 'AddReaction' : 'RemoveReaction';
    return this.run({ type, roomId: req.roomId, messageId: req.messageId, actor: caller(req), emoji: req.emoji }, correlationId);
  }

  private async run(cmd: MessageCommand, correlationId: string): Promise<MessageAck> {
    const message = await this.authorisedLookup(cmd, correlationId);
    return this.append(decideMessage(this.store.get(cmd.roomId), cmd, message, this.context(cmd.actor.userId, correlationId)));
  }

  /**
   * The room checks first (before history is asked anything), then the message. A refusal of
   * the room may come from a stale copy (a join on another replica this one has not applied
   * yet): catch up once and check again before refusing.
   */
  private async authorisedLookup(cmd: MessageCommand, correlationId: string): Promise<MessageView | null> {
    const seen = this.store.versionOf(cmd.roomId);
    try {
      messageAccess(this.store.get(cmd.roomId), cmd);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      const latest = await this.store.latestVersion(cmd.roomId);
      if (latest > this.store.versionOf(cmd.roomId)) await this.store.waitForVersion(cmd.roomId, latest);
      // Moved on by this catch-up or by the follower meanwhile (while the stream was asked).
      if (this.store.versionOf(cmd.roomId) <= seen) throw err;
      messageAccess(this.store.get(cmd.roomId), cmd);
    }
    return this.messages.find(cmd.roomId, cmd.messageId, cmd.actor.userId, correlationId);
  }

  /**
   * One append. A refusal by the server is a known outcome (nothing stored); anything else
   * (timeout, connection lost) leaves it open, and the client may simply retry: an edit or a
   * reaction applied twice is the same state, and a deletion retried after it went in is NOT_FOUND.
   */
  private async append(event: ReturnType<typeof decideMessage>): Promise<MessageAck> {
    const { roomId, messageId } = event.payload;
    try {
      const r = await this.js.append(this.s.chat.roomMessages(roomId), event, { msgId: event.id });
      return { roomId, messageId, position: r.seq };
    } catch (err) {
      if (err instanceof AppendRefused) throw new ChatError('UNAVAILABLE', `the change was not stored (${err.message}); retry`);
      throw new ChatError('UNAVAILABLE', `the change may or may not have been stored (${(err as Error).message}); retry`);
    }
  }

  private context(userId: string, correlationId: string): EventContext {
    return { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: userId }, correlationId };
  }
}

const caller = (req: { userId: string; username: string }) => ({ userId: req.userId, username: req.username });
