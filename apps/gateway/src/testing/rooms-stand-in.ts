import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { createSubjects, makeEvent, ok, type MessagePosted, type Subjects, type UserView } from '@chat/contracts';
import { login, register } from '@chat/client';
import { connectNats, decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { randomName, testNatsUrl } from '@chat/testing';
import { startFakeNotifier } from './fake-notifier';

/**
 * Test-only: what the gateway's integration tests do in the rooms service's place. Users are
 * registered with the rooms they belong to kept in a map that the tests' fake `rooms.userRooms`
 * answers from, and room events are appended to the real CHAT stream as the rooms service
 * would append them.
 */

/** The context of an event appended by a service (`rooms` unless another is named). */
export const serviceCtx = (actor = 'rooms') => ({
  now: () => new Date(),
  newId: randomUUID,
  actor: { kind: 'service' as const, id: actor },
  correlationId: randomUUID(),
});

/**
 * Answers `rooms.userRooms` from `memberships` (a user's rooms as the map holds them when asked),
 * after `delayMs()` when that is above 0.
 */
export function answerUserRooms(
  nc: NatsConnection,
  s: Subjects,
  memberships: Map<string, Set<string>>,
  delayMs: () => number = () => 0,
): Subscription {
  return nc.subscribe(s.rpc('rooms.userRooms'), {
    queue: 'rooms',
    callback: (_e, m) => {
      const req = decodeJson(m.data) as { userId: string };
      const answer = () => m.respond(encodeJson(ok({ roomIds: [...(memberships.get(req.userId) ?? [])] })));
      const delay = delayMs();
      if (delay) setTimeout(answer, delay);
      else answer();
    },
  });
}

/**
 * The rooms service's stand-ins on a fresh namespace of the real NATS, on a connection named
 * `connectionName`: `rooms.userRooms` answered from `memberships` (after `delayMs()`) and the
 * fake notifier, subscribed before this returns. Gateways started on `s.namespace` use them.
 */
export async function startRoomsStandIns(
  connectionName: string,
  memberships: Map<string, Set<string>>,
  delayMs?: () => number,
): Promise<{ s: Subjects; nc: NatsConnection }> {
  const s = createSubjects(randomName());
  const nc = await connectNats({ servers: await testNatsUrl(), name: connectionName });
  answerUserRooms(nc, s, memberships, delayMs);
  startFakeNotifier(nc, s);
  await nc.flush();
  return { s, nc };
}

/** Registers and logs in `name` on the gateway `gw`; `memberships` then lists `rooms` as theirs. */
export async function registerMember(
  gw: RunningService,
  memberships: Map<string, Set<string>>,
  name: string,
  rooms: string[],
): Promise<{ user: UserView; token: string }> {
  const { user } = await register(gw.url, name, 'password-1');
  memberships.set(user.userId, new Set(rooms));
  const { accessToken } = await login(gw.url, name, 'password-1');
  return { user, token: accessToken };
}

/** Appends a message by `sender` to the room's messages through `gw`'s stream client; its id and position. */
export async function appendPost(
  gw: RunningService,
  s: Subjects,
  roomId: string,
  sender: UserView,
  body: string,
): Promise<{ messageId: string; position: number }> {
  const messageId = randomUUID();
  const e = makeEvent<MessagePosted>(serviceCtx(), 'MessagePosted', 2, {
    replyTo: null,
    mentions: [],
    messageId,
    roomId,
    senderId: sender.userId,
    senderName: sender.username,
    clientMsgId: randomUUID(),
    body,
  });
  const r = await gw.deps.js.append(s.chat.roomMessages(roomId), e, { msgId: messageId });
  return { messageId, position: r.seq };
}
