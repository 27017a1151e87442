import type { ChatClient } from '@chat/client';
import type { MessageEvent, PostAck } from '@chat/contracts';
import { loadConfig, type RunningService } from '@chat/platform';
import { eventually, randomName, testNatsUrl } from '@chat/testing';
import { ModerationConfig } from '../../apps/moderation/src/config';
import { moderationSubscribers } from '../../apps/moderation/src/subscribers/registry';
import type { ModerationSubscriber, Verdict } from '../../apps/moderation/src/subscribers/subscriber';
import { startModerationWith } from '../../apps/moderation/src/subscribers/testing/service';
import { printLogsIfFailed, startTestStack, TEST_LIMITS_ENV, type TestStack } from '../e2e/fixture';
import { connectAs, newUser, postedFrames, readAll, type TestUser } from './replica-helpers';

jest.setTimeout(300_000);

const ROOM = 'general';
/** The rules under test, at thresholds a test reaches (the e2e stacks lift them otherwise). */
const RULES_ENV: Record<string, string> = {
  ...TEST_LIMITS_ENV,
  // new-account-flood: more than 5 messages within a minute from an account younger than a day: muted.
  MOD_NEW_ACCOUNT_MESSAGES: '5',
  // link-spam: 3 links within a minute: the message is redacted.
  MOD_LINK_SPAM_LINKS: '3',
  // A filter in the send path.
  BLOCKED_WORDS: 'forbiddenword',
};

/** Throws on every message event (a bug in an extension). */
class Thrower implements ModerationSubscriber<'messages'> {
  readonly name = 'fault-thrower';
  readonly source = 'messages' as const;
  calls = 0;
  handle(): Verdict[] {
    this.calls++;
    throw new Error('this subscriber is broken');
  }
}

/** Never answers (an extension waiting on something that never comes); released at the end. */
class Hanger implements ModerationSubscriber<'messages'> {
  readonly name = 'fault-hanger';
  readonly source = 'messages' as const;
  /** Its own timeout (the shipped ones keep MOD_SUBSCRIBER_TIMEOUT_MS): each attempt is given up after 500 ms. */
  readonly timeoutMs = 500;
  calls = 0;
  private release: () => void = () => undefined;
  private readonly never = new Promise<Verdict[]>((resolve) => (this.release = () => resolve([])));
  handle(_event: MessageEvent): Promise<Verdict[]> {
    this.calls++;
    return this.never;
  }
  stop(): void {
    this.release();
  }
}

/**
 * Issue 11, Faults 7: a moderation subscriber that throws on every event and one that never
 * answers, registered beside the shipped ones through the extension API
 * (docs/extending-moderation.md: a subscriber is a class handed to the runner, as registry.ts
 * does). The test runs the whole moderation service in-process with that list (the subscribers'
 * own test harness), as the only moderation replica of a built stack whose other services are
 * processes: its moderation process is stopped first, so every send is checked by the replica
 * hosting the broken subscribers. Sending goes on (every send acknowledged, delivered live once
 * and in history), the send-path filter still refuses, and the shipped subscribers still act
 * (new-account-flood mutes a flooder, link-spam redacts), while the broken ones demonstrably
 * ran and failed.
 */
describe('subscriber faults - a moderation subscriber that throws and one that hangs hold nothing else up', () => {
  let stack: TestStack;
  let moderation: RunningService;
  const thrower = new Thrower();
  const hanger = new Hanger();
  let observer: TestUser;
  let observerC: ChatClient;
  const senders: Array<{ user: TestUser; c: ChatClient }> = [];

  beforeAll(async () => {
    stack = await startTestStack({ serviceEnv: { moderation: RULES_ENV } });
    await stack.stop('moderation');
    const env = { ...RULES_ENV, NATS_URL: await testNatsUrl(), NATS_NAMESPACE: stack.namespace };
    const shipped = moderationSubscribers(loadConfig(ModerationConfig, { ...env, HTTP_PORT: '0' }));
    expect(shipped.map((s) => s.name).sort()).toEqual(['link-spam', 'new-account-flood']);
    moderation = await startModerationWith(stack.namespace, [...shipped, thrower, hanger], { env });
    observer = await newUser(stack.urls.gateway, randomName('obs'));
    observerC = await connectAs(stack.urls.gateway, observer);
    await observerC.request('room.join', { roomId: ROOM });
    for (const name of ['ann', 'bob', 'flooder', 'linker']) {
      const user = await newUser(stack.urls.gateway, randomName(name));
      const c = await connectAs(stack.urls.gateway, user);
      await c.request('room.join', { roomId: ROOM });
      senders.push({ user, c });
    }
  });

  afterAll(async () => {
    hanger.stop();
    await Promise.all([observerC, ...senders.map((s) => s.c)].map((c) => c?.close().catch(() => undefined)));
    await moderation?.close();
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms']));

  it('sending goes on: every send is acknowledged, delivered live once and stored once, while the broken subscribers fail', async () => {
    const [ann, bob] = senders;
    const acks: PostAck[] = [];
    // Within the flood threshold (5 per user per minute): nothing here is a rule's business.
    for (let i = 0; i < 5; i++)
      for (const s of [ann, bob])
        acks.push(await s.c.request('message.send', { roomId: ROOM, clientMsgId: `ok-${i}`, body: `hello ${i}` }));
    // The broken subscribers were handed these messages and failed on them.
    await eventually(() => thrower.calls >= 2 && hanger.calls >= 1, 30_000);
    const want = acks.map((a) => a.messageId);
    await eventually(() => postedFrames(observerC, ROOM).length >= want.length, 20_000);
    expect(postedFrames(observerC, ROOM).map((f) => f.data.messageId)).toEqual(want);
    const stored = await eventually(async () => {
      const all = await readAll(observerC, ROOM);
      return all.length >= want.length ? all : null;
    }, 20_000);
    expect(stored.map((m) => m.messageId).reverse()).toEqual(want);
  });

  it('the send-path filter still refuses a blocked word', async () => {
    await expect(
      senders[0].c.request('message.send', { roomId: ROOM, clientMsgId: 'blocked', body: 'a forbiddenword here' }),
    ).rejects.toMatchObject({ code: 'CONTENT_BLOCKED' });
  });

  it('new-account-flood still mutes a flooder', async () => {
    const { user, c } = senders[2];
    const before = { thrower: thrower.calls, hanger: hanger.calls };
    // Over the threshold: the 6th message within the minute gets the account muted server-wide.
    let n = 0;
    const refused = await eventually(
      async () => {
        try {
          await c.request('message.send', { roomId: ROOM, clientMsgId: `flood-${n}`, body: `flood ${n++}` });
          return null;
        } catch (err) {
          return (err as { code?: string }).code ?? String(err);
        }
      },
      60_000,
      200,
    );
    expect(refused).toBe('MUTED');
    expect(n).toBeGreaterThan(5);
    await c.waitFor('moderation.muted', (m) => m.userId === user.userId, 20_000);
    // Meanwhile the broken subscribers were still being handed events (and failing on them).
    await eventually(() => thrower.calls > before.thrower && hanger.calls > before.hanger, 30_000);
  });

  it('link-spam still redacts the third link within the minute', async () => {
    const { c } = senders[3];
    const acks: PostAck[] = [];
    for (let i = 0; i < 3; i++)
      acks.push(await c.request('message.send', { roomId: ROOM, clientMsgId: `link-${i}`, body: `see https://example.com/page${i}` }));
    const deleted = await observerC.waitFor('message.deleted', (d) => d.messageId === acks[2].messageId, 60_000);
    expect(deleted).toEqual(expect.objectContaining({ roomId: ROOM, reason: 'moderator' }));
    // The first two stay.
    expect(observerC.events('message.deleted').filter((f) => acks.slice(0, 2).some((a) => a.messageId === f.data.messageId))).toEqual([]);
  });
});
