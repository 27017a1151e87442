import {
  directRoomId,
  makeEvent,
  type EventContext,
  type Mention,
  type MessageEvent,
  type MessagePosted,
  type ReplyRef,
  type RoomEvent,
  type Subjects,
} from '@chat/contracts';
import type { JetStreamAdapter } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { HistoryConfig } from '../config';
import { historyService } from '../service';
import type { StreamEvent } from '../store/events';
import { historyTestEnv } from './test-env';

export interface FixtureOptions {
  /** Usernames by user id (default: `u-` and the id's first four characters). */
  names?: Record<string, string>;
  /** The time of each event appended without one (default: now). */
  clock?: () => Date;
}

/** What a post carries besides its text: its time, and mentions and reply as rooms resolved them. */
export interface PostOptions {
  time?: Date;
  mentions?: Mention[];
  replyTo?: ReplyRef | null;
}

/** A post as appended: its id and stream position, the time and text it carries. */
export interface Posted {
  messageId: string;
  position: number;
  time: string;
  body: string;
  event: MessagePosted;
}

/**
 * Appends what the rooms service would to a test namespace's CHAT stream (room events, posts,
 * edits, deletions, reactions; with the times the test chooses) and waits for the running
 * service's projection. Tests see the projection's real work, never a stand-in for it.
 */
export class HistoryFixture {
  /** The highest position appended here (`projected()` waits for it). */
  last = 0;
  /** Every event appended here, as the projector reads it (a test may apply a slice as one batch). */
  readonly appended: StreamEvent[] = [];

  constructor(
    private readonly js: JetStreamAdapter,
    private readonly s: Subjects,
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly options: FixtureOptions = {},
  ) {}

  name(userId: string): string {
    return this.options.names?.[userId] ?? `u-${userId.slice(0, 4)}`;
  }

  /** The context of an event by `userId` (at `time`, else the clock's time). */
  ctx(userId: string, time?: Date): EventContext {
    const now = time ? () => time : (this.options.clock ?? (() => new Date()));
    return { now, newId: randomUUID, actor: { kind: 'user', id: userId }, correlationId: randomUUID() };
  }

  /** Appends an event (de-duplicated by its id, as rooms appends, unless `msgId` says otherwise); resolves its position. */
  async append(subject: string, event: { id: string }, msgId = event.id): Promise<number> {
    const { seq } = await this.js.append(subject, event, { msgId });
    this.last = Math.max(this.last, seq);
    this.appended.push({ subject, position: seq, data: event });
    return seq;
  }

  /** The event appended here at `position`, as the projector reads it (to apply it by hand). */
  at(position: number): StreamEvent {
    const found = this.appended.find((e) => e.position === position);
    if (!found) throw new Error(`nothing appended here at ${position}`);
    return found;
  }

  /** A room event of the actor, on the room's meta subject. */
  room<E extends RoomEvent>(type: E['type'], payload: E['payload'], actor: string, version = 1): Promise<number> {
    return this.append(this.s.chat.roomMeta(payload.roomId), makeEvent<E>(this.ctx(actor), type, version as never, payload));
  }

  /** A message event of the actor, on the room's message subject. */
  message<E extends MessageEvent>(type: E['type'], payload: E['payload'], actor: string, version = 1): Promise<number> {
    return this.append(this.s.chat.roomMessages(payload.roomId), makeEvent<E>(this.ctx(actor), type, version as never, payload));
  }

  /** A room of `ownerId`; `null` makes one with no owner (as the rooms created at start-up), appended by a random actor. */
  createRoom(
    roomId: string,
    ownerId: string | null,
    over: { visibility?: 'public' | 'private'; postPolicy?: 'members' | 'admins'; name?: string } = {},
  ): Promise<number> {
    return this.room(
      'RoomCreated',
      {
        roomId,
        name: over.name ?? roomId,
        topic: '',
        visibility: over.visibility ?? 'public',
        postPolicy: over.postPolicy ?? 'members',
        memberLimit: 1000,
        slowModeSeconds: 0,
        ownerId,
        ownerName: ownerId && this.name(ownerId),
      },
      ownerId ?? randomUUID(),
    );
  }

  /** Opens the conversation of two users (as the first message or a block does); resolves its room id. */
  async openConversation(userA: string, userB: string, reason: 'message' | 'block' = 'message'): Promise<string> {
    const [a, b] = [userA, userB].sort();
    const roomId = directRoomId(a, b);
    await this.room(
      'ConversationOpened',
      { roomId, userAId: a, userAName: this.name(a), userBId: b, userBName: this.name(b), openedById: userA, reason },
      userA,
    );
    return roomId;
  }

  join(roomId: string, userId: string, role: 'member' | 'admin' = 'member'): Promise<number> {
    return this.room('MemberJoined', { roomId, userId, username: this.name(userId), role }, userId);
  }

  setRetention(roomId: string, byUserId: string, days: number | null): Promise<number> {
    return this.room('RoomRetentionSet', { roomId, days, byUserId, byUsername: this.name(byUserId) }, byUserId);
  }

  /** A post (MessagePosted v2) by a user (of the room, or history drops it, as the stream decides). */
  async post(roomId: string, senderId: string, body: string, over: PostOptions = {}): Promise<Posted> {
    const event = makeEvent<MessagePosted>(this.ctx(senderId, over.time), 'MessagePosted', 2, {
      messageId: randomUUID(),
      roomId,
      senderId,
      senderName: this.name(senderId),
      clientMsgId: randomUUID(),
      body,
      replyTo: over.replyTo ?? null,
      mentions: over.mentions ?? [],
    });
    const position = await this.append(this.s.chat.roomMessages(roomId), event);
    return { messageId: event.payload.messageId, position, time: event.time, body, event };
  }

  /** The post's event appended once more, past the stream's de-duplication (a retry after its window); resolves the new position. */
  again(posted: Posted): Promise<number> {
    return this.append(this.s.chat.roomMessages(posted.event.payload.roomId), posted.event, randomUUID());
  }

  /** `@name` of each user, as rooms resolves a mention. */
  mentions(...userIds: string[]): Mention[] {
    return userIds.map((userId) => ({ userId, username: this.name(userId) }));
  }

  edit(roomId: string, messageId: string, senderId: string, body: string, mentions: Mention[] = []): Promise<number> {
    return this.message('MessageEdited', { roomId, messageId, senderId, body, mentions }, senderId);
  }

  remove(roomId: string, messageId: string, byUserId: string, reason: 'author' | 'moderator' = 'author'): Promise<number> {
    return this.message('MessageDeleted', { roomId, messageId, byUserId, byUsername: this.name(byUserId), reason }, byUserId);
  }

  react(roomId: string, messageId: string, userId: string, emoji: string): Promise<number> {
    return this.message('ReactionAdded', { roomId, messageId, userId, username: this.name(userId), emoji }, userId);
  }

  /** How many rows a table of this schema holds. */
  async count(table: string): Promise<number> {
    return Number((await this.pool.query(`SELECT count(*) AS n FROM "${this.schema}".${table}`)).rows[0].n);
  }

  /** The position the projection has committed (its checkpoint row; 0 before the first batch). */
  async checkpoint(): Promise<number> {
    const { rows } = await this.pool.query(`SELECT position FROM "${this.schema}".projection_checkpoints WHERE name = $1`, [
      this.s.consumers.historyProjector,
    ]);
    return rows.length ? Number(rows[0].position) : 0;
  }

  /** Waits until the projection committed and acked everything appended here (the stream trim goes by the ack floor). */
  async projected(timeoutMs = 10_000): Promise<void> {
    // The checkpoint row keeps the shared name; the durable consumer is the schema's own.
    const consumer = this.s.consumers.historyProjectorOf(this.schema);
    await eventually(async () => (await this.checkpoint()) >= this.last, timeoutMs);
    await eventually(async () => ((await this.js.ackFloor(this.s.streams.chat.name, consumer)) ?? 0) >= this.last, timeoutMs);
  }
}

/** A running history service of its own namespace and schema, a pool on its database and a fixture on its stream. */
export interface HistoryUnderTest {
  namespace: string;
  schema: string;
  svc: RunningService;
  pool: Pool;
  s: Subjects;
  js: JetStreamAdapter;
  f: HistoryFixture;
  /** Stops the service, deletes the namespace's streams and drops the schema. */
  close(): Promise<void>;
}

/** Starts a history service with a random namespace and schema (`schemaPrefix` and random hex), `env` added to its environment. */
export async function startHistory(
  schemaPrefix: string,
  env: Record<string, string> = {},
  options: FixtureOptions = {},
): Promise<HistoryUnderTest> {
  const namespace = randomName();
  const schema = randomName(schemaPrefix);
  const pool = new Pool({ connectionString: await testDatabaseUrl(), max: 2 });
  const svc = await startService(historyService(loadConfig(HistoryConfig, await historyTestEnv(namespace, schema, env))));
  const s = svc.deps.subjects;
  const js = svc.deps.js;
  const close = async () => {
    await svc.close();
    await deleteNamespace(namespace);
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  };
  return { namespace, schema, svc, pool, s, js, f: new HistoryFixture(js, s, pool, schema, options), close };
}

/** The sum of a Prometheus metric over its labels, as the service's /metrics shows it now. */
export async function metric(svc: RunningService, name: string): Promise<number> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}
