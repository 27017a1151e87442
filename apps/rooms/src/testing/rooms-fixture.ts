import { makeEvent, usernameKey, type UserRegistered, type UserView } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, randomName, testNatsUrl } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { RoomsConfig } from '../config';
import { roomsService } from '../service';

/** Environment of a rooms service under test: the test's namespace, quiet logs unless TEST_LOG_LEVEL says otherwise. */
export async function roomsTestEnv(namespace: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    NATS_URL: await testNatsUrl(),
    NATS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...extra,
  };
}

/** Starts a rooms service (a replica: several may run on one namespace). */
export async function startRooms(namespace: string, extra: Record<string, string> = {}): Promise<RunningService> {
  return startService(roomsService(loadConfig(RoomsConfig, await roomsTestEnv(namespace, extra))));
}

/**
 * For the describe block it is called in: a rooms service on a fresh namespace with
 * fakeModeration(blocked), started before all its tests; after them the fake is unsubscribed, the
 * service closed and the namespace deleted. Returns the running service.
 */
export function roomsForSuite(blocked: string): () => RunningService {
  const namespace = randomName();
  let svc: RunningService;
  let moderation: Subscription;
  beforeAll(async () => {
    svc = await startRooms(namespace);
    moderation = fakeModeration(svc, blocked);
  });
  afterAll(async () => {
    moderation?.unsubscribe();
    await svc?.close();
    await deleteNamespace(namespace);
  });
  return () => svc;
}

/**
 * The moderation service's place on the real NATS subject, played by the test (apps do not
 * import each other; the real pair runs together in the e2e tests): rejects a body containing
 * `blocked`, allows any other as moderation accepts it (NFC-normalised).
 */
export function fakeModeration(svc: RunningService, blocked: string, reason = 'blocked'): Subscription {
  return svc.nc.subscribe(svc.deps.subjects.rpc('moderation.check'), {
    queue: 'moderation',
    callback: (_err, msg) => {
      const req = decodeJson(msg.data) as { body: string };
      const verdict = req.body.includes(blocked)
        ? { verdict: 'reject', code: 'CONTENT_BLOCKED', rule: 'test', reason, retryAfterMs: null }
        : { verdict: 'allow', body: req.body.normalize('NFC') };
      msg.respond(encodeJson({ ok: true, data: verdict }));
    },
  });
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
