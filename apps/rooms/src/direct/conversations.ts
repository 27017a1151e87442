import { Injectable } from '@nestjs/common';
import { ChatError, directRoomId, type BlockView, type CommandAck, type PostAck, type UserView } from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { PostMessageHandler } from '../messages/post-message';
import { RoomCommandHandler } from '../room/room.commands';
import { RoomStore } from '../room/room.store';
import { UserDirectory } from '../users/user-directory';
import { acceptedBody, checkRequest } from '../messages/moderation-verdict';

/**
 * One-to-one conversations: a private message by username opens the pair's conversation (its
 * id derived from both user ids, so racing first messages meet on one aggregate) and posts
 * through the ordinary send path; blocks are recorded in the same aggregate.
 */
@Injectable()
export class Conversations {
  constructor(
    private readonly store: RoomStore,
    private readonly commands: RoomCommandHandler,
    private readonly users: UserDirectory,
    private readonly posts: PostMessageHandler,
    private readonly rpc: RpcClient,
  ) {}

  async send(
    me: UserView,
    req: { username: string; clientMsgId: string; body: string; replyTo?: string },
    correlationId: string,
  ): Promise<PostAck> {
    const peer = await this.users.requireByName(req.username);
    if (peer.userId === me.userId) throw new ChatError('BAD_REQUEST', 'you cannot send a private message to yourself');
    const roomId = directRoomId(me.userId, peer.userId);
    // Opening is idempotent (an open conversation decides nothing), so a retried send, or two
    // first messages racing on two replicas, open it once. A first message that moderation
    // refuses opens nothing (the peer must not be told of a conversation without a message),
    // so it is checked before opening; the send path checks it again, as for every message.
    // One that moderation holds for review opens the conversation silently (reason `held`:
    // only the sender is told), so that the moderator's approval, rooms.post as the sender in
    // the conversation, finds it: the peer learns of it from the approved message.
    if (!this.store.get(roomId) && req.replyTo && !(await this.caughtUp(roomId))) {
      // Nothing can be quoted from a conversation that was never opened; opening one for a
      // message that is then refused would tell the peer of a conversation without a message.
      throw new ChatError('NOT_FOUND', `message "${req.replyTo}" does not exist in this conversation`);
    }
    if (!this.store.get(roomId)) {
      const check = checkRequest(
        null,
        { roomId, userId: me.userId, username: me.username, body: req.body, clientMsgId: req.clientMsgId },
        'post',
      );
      const verdict = await this.rpc.callOrThrow('moderation.check', check, { correlationId });
      if (verdict.verdict === 'hold') {
        await this.commands.execute({ type: 'OpenConversation', roomId, actor: me, peer, reason: 'held' }, actorOf(me), correlationId);
      }
      acceptedBody(verdict);
      await this.commands.execute({ type: 'OpenConversation', roomId, actor: me, peer }, actorOf(me), correlationId);
    }
    return this.posts.post(
      { roomId, userId: me.userId, username: me.username, clientMsgId: req.clientMsgId, body: req.body, replyTo: req.replyTo },
      correlationId,
    );
  }

  async block(me: UserView, userId: string, blocking: boolean, correlationId: string): Promise<CommandAck> {
    if (userId === me.userId) throw new ChatError('BAD_REQUEST', 'you cannot block yourself');
    const peer = await this.users.requireById(userId);
    const roomId = directRoomId(me.userId, peer.userId);
    const { position } = await this.commands.execute(
      { type: blocking ? 'Block' : 'Unblock', roomId, actor: me, peer },
      actorOf(me),
      correlationId,
    );
    return { roomId, position };
  }

  /** Whether the conversation exists once this replica has applied what the stream has of it (it may be behind another replica). */
  private async caughtUp(roomId: string): Promise<boolean> {
    const latest = await this.store.latestVersion(roomId);
    if (latest > this.store.versionOf(roomId)) await this.store.waitForVersion(roomId, latest);
    return this.store.get(roomId) !== null;
  }

  /** The users `userId` blocks, oldest block first. */
  blocks(userId: string): BlockView[] {
    const out: BlockView[] = [];
    for (const room of this.store.memberOf(userId)) {
      const time = room.direct?.blocks.get(userId);
      if (!room.direct || time === undefined) continue;
      const peer = room.direct.userA.userId === userId ? room.direct.userB : room.direct.userA;
      out.push({ userId: peer.userId, username: peer.username, time });
    }
    return out.sort((a, b) => a.time.localeCompare(b.time));
  }
}

const actorOf = (u: UserView) => ({ kind: 'user' as const, id: u.userId });
