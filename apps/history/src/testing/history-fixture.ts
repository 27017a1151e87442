import {
  directRoomId,
  makeEvent,
  type ConversationOpened,
  type EventContext,
  type MemberJoined,
  type MessagePosted,
  type RoomCreated,
  type RoomRetentionSet,
  type Subjects,
} from '@chat/contracts';
import type { JetStreamAdapter } from '@chat/messaging';
import { eventually } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

/**
 * Test helper for the read, statistics and retention tests: appends room events and messages
 * to a test namespace's stream (with the times the test chooses) and waits for the projection.
 */
export class HistoryFixture {
  last = 0;

  constructor(
    private readonly js: JetStreamAdapter,
    private readonly s: Subjects,
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  private ctx(userId: string, time: Date): EventContext {
    return { now: () => time, newId: randomUUID, actor: { kind: 'user', id: userId }, correlationId: randomUUID() };
  }

  private async append(subject: string, event: { id: string }): Promise<number> {
    const { seq } = await this.js.append(subject, event, { msgId: event.id });
    this.last = Math.max(this.last, seq);
    return seq;
  }

  async createRoom(roomId: string, ownerId: string, visibility: 'public' | 'private' = 'public'): Promise<number> {
    const ev = makeEvent<RoomCreated>(this.ctx(ownerId, new Date()), 'RoomCreated', 1, {
      roomId,
      name: roomId,
      topic: '',
      visibility,
      postPolicy: 'members',
      memberLimit: 1000,
      ownerId,
      ownerName: `owner-${ownerId.slice(0, 4)}`,
    });
    return this.append(this.s.chat.roomMeta(roomId), ev);
  }

  /** Opens the conversation of two users (as the first message or a block does); resolves its room id. */
  async openConversation(userA: string, userB: string, reason: 'message' | 'block'): Promise<string> {
    const [a, b] = [userA, userB].sort();
    const roomId = directRoomId(a, b);
    const ev = makeEvent<ConversationOpened>(this.ctx(userA, new Date()), 'ConversationOpened', 1, {
      roomId,
      userAId: a,
      userAName: `u-${a.slice(0, 4)}`,
      userBId: b,
      userBName: `u-${b.slice(0, 4)}`,
      openedById: userA,
      reason,
    });
    await this.append(this.s.chat.roomMeta(roomId), ev);
    return roomId;
  }

  async join(roomId: string, userId: string, role: 'member' | 'admin' = 'member'): Promise<number> {
    const ev = makeEvent<MemberJoined>(this.ctx(userId, new Date()), 'MemberJoined', 1, {
      roomId,
      userId,
      username: `u-${userId.slice(0, 4)}`,
      role,
    });
    return this.append(this.s.chat.roomMeta(roomId), ev);
  }

  async setRetention(roomId: string, byUserId: string, days: number | null): Promise<number> {
    const ev = makeEvent<RoomRetentionSet>(this.ctx(byUserId, new Date()), 'RoomRetentionSet', 1, {
      roomId,
      days,
      byUserId,
      byUsername: 'owner',
    });
    return this.append(this.s.chat.roomMeta(roomId), ev);
  }

  async post(roomId: string, senderId: string, body: string, time = new Date()): Promise<{ messageId: string; position: number }> {
    const messageId = randomUUID();
    const ev = makeEvent<MessagePosted>(this.ctx(senderId, time), 'MessagePosted', 2, {
      replyTo: null,
      mentions: [],
      messageId,
      roomId,
      senderId,
      senderName: `u-${senderId.slice(0, 4)}`,
      clientMsgId: `c-${messageId}`,
      body,
    });
    return { messageId, position: await this.append(this.s.chat.roomMessages(roomId), ev) };
  }

  /** Waits until the projection committed and acked everything appended here (the stream trim goes by the ack floor). */
  async projected(): Promise<void> {
    const name = this.s.consumers.historyProjector;
    await eventually(async () => {
      const { rows } = await this.pool.query(`SELECT position FROM "${this.schema}".projection_checkpoints WHERE name = $1`, [name]);
      return rows.length > 0 && Number(rows[0].position) >= this.last;
    });
    await eventually(async () => ((await this.js.ackFloor(this.s.streams.chat.name, name)) ?? 0) >= this.last);
  }

  /**
   * The message-lifecycle columns and tables this work reads (deleted_at, mentions,
   * message_mentions, message_reactions), created here with the DDL of the shared brief when
   * the lifecycle migration is not in this branch yet (no-ops once it is).
   */
  async ensureLifecycleSchema(): Promise<void> {
    const s = `"${this.schema}"`;
    await this.pool.query(`ALTER TABLE ${s}.messages ADD COLUMN IF NOT EXISTS mentions jsonb NOT NULL DEFAULT '[]',
                                                      ADD COLUMN IF NOT EXISTS deleted_at timestamptz`);
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${s}.message_mentions (user_id uuid, room_id text, position bigint,
                             PRIMARY KEY (user_id, room_id, position))`);
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${s}.message_reactions (message_id uuid, emoji text, user_id uuid, username text,
                             active boolean, position bigint, first_position bigint, PRIMARY KEY (message_id, emoji, user_id))`);
  }

  /** What the lifecycle projection does for a mention: the jsonb column and the message_mentions row. */
  async mention(position: number, roomId: string, userId: string): Promise<void> {
    const s = `"${this.schema}"`;
    await this.pool.query(`UPDATE ${s}.messages SET mentions = $2::jsonb WHERE position = $1`, [
      position,
      JSON.stringify([{ userId, username: 'x' }]),
    ]);
    await this.pool.query(`INSERT INTO ${s}.message_mentions VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [userId, roomId, position]);
  }

  /** What the lifecycle projection does for a deletion: a tombstone, and no mentions rows. */
  async tombstone(position: number): Promise<void> {
    const s = `"${this.schema}"`;
    await this.pool.query(`UPDATE ${s}.messages SET deleted_at = now(), body = '', mentions = '[]' WHERE position = $1`, [position]);
    await this.pool.query(`DELETE FROM ${s}.message_mentions WHERE position = $1`, [position]);
  }
}
