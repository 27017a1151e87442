import {
  decodeModerationEvent,
  makeEvent,
  usernameKey,
  type ModerationEvent,
  type UserRegistered,
  type UserView,
  type WsEventName,
} from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { testNatsUrl } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { ModerationConfig } from '../config';
import { moderationService } from '../service';

/** Starts a moderation replica on `namespace` (several may run on one), quiet unless TEST_LOG_LEVEL says otherwise. */
export async function startModeration(namespace: string, extra: Record<string, string> = {}): Promise<RunningService> {
  const config = loadConfig(ModerationConfig, {
    NATS_URL: await testNatsUrl(),
    NATS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...extra,
  });
  return startService(moderationService(config));
}

/** An account as the gateway's registration leaves it: the KV record and the UserRegistered event. */
export async function register(svc: RunningService, username: string): Promise<UserView> {
  const user = { userId: randomUUID(), username };
  const s = svc.deps.subjects;
  const kv = await svc.deps.js.kv(s.kv.accounts);
  await kv.put(usernameKey(username), encodeJson({ ...user, passwordHash: '$argon2id$secret', createdAt: new Date().toISOString() }));
  const event = makeEvent<UserRegistered>(
    { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: user.userId }, correlationId: randomUUID() },
    'UserRegistered',
    1,
    user,
  );
  await svc.deps.js.append(s.accounts.events(user.userId), event, { msgId: user.userId });
  return user;
}

/** Every moderation event stored on subjects matching `filter` (read afresh from the stream). */
export async function storedEvents(svc: RunningService, filter: string): Promise<ModerationEvent[]> {
  const out: ModerationEvent[] = [];
  const f = await svc.deps.js.follow(svc.deps.subjects.streams.moderation.name, filter, (m) => {
    const d = decodeModerationEvent(m.data);
    if (d.ok) out.push(d.event);
  });
  await f.caughtUp;
  await f.stop();
  return out;
}

/** Collects what the service publishes on a user's live moderation subject. */
export function newsOf(svc: RunningService, userId: string): { frames: Array<{ event: WsEventName; data: unknown }>; sub: Subscription } {
  const frames: Array<{ event: WsEventName; data: unknown }> = [];
  const sub = svc.nc.subscribe(svc.deps.subjects.live.userModeration(userId), {
    callback: (_err, msg) => {
      frames.push(decodeJson(msg.data) as { event: WsEventName; data: unknown });
    },
  });
  return { frames, sub };
}

/** Plays another service on its real NATS subject (apps do not import each other): answers `name` with `answer(request)`. */
export function fakeRpc(
  svc: RunningService,
  name: Parameters<RunningService['deps']['subjects']['rpc']>[0],
  answer: (req: Record<string, unknown>) => unknown,
): Subscription {
  return svc.nc.subscribe(svc.deps.subjects.rpc(name), {
    queue: name.split('.')[0],
    callback: (_err, msg) => {
      msg.respond(encodeJson(answer(decodeJson(msg.data) as Record<string, unknown>)));
    },
  });
}

/** A fake rooms.post's answer: the message stored, a new id, for the room and clientMsgId of `req`. */
export function postedOk(req: Record<string, unknown>) {
  return {
    ok: true,
    data: {
      messageId: randomUUID(),
      roomId: req.roomId,
      clientMsgId: req.clientMsgId,
      time: new Date().toISOString(),
      position: 1,
      duplicate: false,
    },
  };
}
