import { decodeModerationEvent, ok, type MessageEvent, type Subjects } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { ModerationSubscriber, Verdict } from './subscriber';
import { posted } from './testing/events';
import { startModerationWith } from './testing/service';

/** Sees every message event; redacts a message saying "redact-me", warns its author for "warn-me". */
class Recorder implements ModerationSubscriber<'messages'> {
  readonly name = 'recorder';
  readonly source = 'messages' as const;
  readonly seen: string[] = [];
  handle(event: MessageEvent): Verdict[] {
    if (event.type !== 'MessagePosted') return [];
    const p = event.payload;
    this.seen.push(p.messageId);
    const author = { userId: p.senderId, username: p.senderName };
    if (p.body.includes('redact-me')) return [{ kind: 'redact', roomId: p.roomId, messageId: p.messageId, ...author, reason: 'asked' }];
    if (p.body.includes('warn-me')) return [{ kind: 'warn', ...author, reason: 'asked' }];
    return [];
  }
}

/** Fails on every event. */
const thrower: ModerationSubscriber<'messages'> = {
  name: 'thrower',
  source: 'messages',
  handle: () => {
    throw new Error('this subscriber is broken');
  },
};

/** Never answers (held until the test ends). */
let releaseSlow: () => void = () => undefined;
const held = new Promise<Verdict[]>((resolve) => (releaseSlow = () => resolve([])));
const slow: ModerationSubscriber<'messages'> = { name: 'slow', source: 'messages', handle: () => held };

const env = { MOD_SUBSCRIBER_TIMEOUT_MS: '200', MOD_SUBSCRIBER_MAX_DELIVERIES: '2' };

describe('moderation subscribers - on real NATS', () => {
  const namespace = randomName();
  const ann = { userId: randomUUID(), username: 'ann' };
  const recorders = [new Recorder(), new Recorder()];
  const deletes: Array<{ roomId: string; messageId: string; reason: string; rule: string }> = [];
  let replicas: RunningService[] = [];
  let rooms: Subscription;
  let s: Subjects;
  let beforeStart: string;
  let past: string;

  /** Stores a message as the rooms service does; resolves its id. */
  async function post(body: string, roomId = 'general'): Promise<string> {
    const event = posted({ senderId: ann.userId, senderName: ann.username, body, roomId });
    await replicas[0].deps.js.append(s.chat.roomMessages(roomId), event, { msgId: event.payload.messageId });
    return event.payload.messageId;
  }

  const seenByAll = () => [...recorders[0].seen, ...recorders[1].seen];

  beforeAll(async () => {
    // A server with a past: a message stored before any subscriber consumer exists.
    const earlier = await startModerationWith(namespace, []);
    replicas = [earlier];
    s = earlier.deps.subjects;
    past = await post('from before the subscribers existed');
    await earlier.close();
    const first = await startModerationWith(namespace, [recorders[0], thrower, slow], { env });
    replicas = [first];
    s = first.deps.subjects;
    // The rooms service's place on the real subject: deletes as asked (apps do not import each other).
    rooms = first.nc.subscribe(s.rpc('rooms.moderatorDelete'), {
      queue: 'rooms',
      callback: (_err, msg) => {
        const req = decodeJson(msg.data) as (typeof deletes)[number];
        deletes.push(req);
        msg.respond(encodeJson(ok({ roomId: req.roomId, position: 99, messageId: req.messageId })));
      },
    });
    beforeStart = await post('hello before the second replica');
    replicas.push(await startModerationWith(namespace, [recorders[1], thrower, slow], { env }));
  });

  afterAll(async () => {
    releaseSlow();
    rooms?.unsubscribe();
    await Promise.all(replicas.map((r) => r.close()));
    await deleteNamespace(namespace);
  });

  it('each subscriber has its own durable consumer, created at the end of the stream, shared by the replicas', async () => {
    const consumers = await eventually(async () => {
      const names = await Promise.all(
        ['recorder', 'thrower', 'slow'].map(async (n) => {
          const r = await replicas[0].deps.js.ackFloor(s.streams.chat.name, s.consumers.moderationSubscriber(n));
          return r === null ? null : n;
        }),
      );
      return names.every(Boolean) ? names : null;
    });
    expect(consumers).toEqual(['recorder', 'thrower', 'slow']);
    // Stored after the consumers were created: delivered (to one replica). Stored before: never.
    await eventually(() => seenByAll().includes(beforeStart));
    expect(seenByAll()).not.toContain(past);
  });

  it("a subscriber's redact verdict deletes through rooms.moderatorDelete and stores a MessageRedacted", async () => {
    const messageId = await post('please redact-me', 'lobby');
    await eventually(() => deletes.find((d) => d.messageId === messageId));
    expect(deletes.filter((d) => d.messageId === messageId)).toEqual([{ roomId: 'lobby', messageId, reason: 'asked', rule: 'recorder' }]);
    const stored = await eventually(() => replicas[0].deps.js.lastOnSubject(s.streams.moderation.name, s.moderation.redactions('lobby')));
    const decoded = decodeModerationEvent(stored.data);
    expect(decoded.ok && decoded.event).toMatchObject({
      type: 'MessageRedacted',
      payload: { roomId: 'lobby', messageId, userId: ann.userId, username: 'ann', reason: 'asked', rule: 'recorder' },
    });
  });

  it("a subscriber's warn verdict warns the user through the sanctions part, named after the subscriber", async () => {
    await post('warn-me please');
    const stored = await eventually(() => replicas[0].deps.js.lastOnSubject(s.streams.moderation.name, s.moderation.user(ann.userId)));
    const decoded = decodeModerationEvent(stored.data);
    expect(decoded.ok && decoded.event).toMatchObject({
      type: 'UserWarned',
      payload: { userId: ann.userId, username: 'ann', reason: 'asked', rule: 'recorder', byUserId: null },
    });
  });

  it('a throwing and a slow subscriber stop neither another subscriber nor the send path', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await post(`message ${i}`));
    // The other subscriber saw every one, once, across both replicas.
    await eventually(() => ids.every((id) => seenByAll().includes(id)));
    expect(
      seenByAll()
        .filter((id) => ids.includes(id))
        .sort(),
    ).toEqual([...ids].sort());
    // The send path's moderation step answers meanwhile.
    const check = await replicas[1].deps.rpc.call('moderation.check', {
      roomId: 'general',
      senderId: ann.userId,
      senderName: 'ann',
      senderRole: 'member',
      kind: 'post',
      clientMsgId: randomUUID(),
      body: 'still sending',
      heldReportId: null,
    });
    expect(check).toEqual({ ok: true, data: { verdict: 'allow', body: 'still sending' } });
  });

  it('the broken subscribers give their events up after the last delivery, logged and counted', async () => {
    const metric = (text: string, name: string, outcome: string) =>
      Number(new RegExp(`moderation_subscriber_events_total\\{subscriber="${name}",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    const texts = () => Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
    // Summed over the replicas: either may have had the last delivery.
    const terminated = async (name: string) => (await texts()).reduce((n, t) => n + metric(t, name, 'terminated'), 0);
    await eventually(async () => (await terminated('thrower')) > 0, 20_000);
    await eventually(async () => (await terminated('slow')) > 0, 20_000);
    const all = (await texts()).join('\n');
    expect(all).toMatch(/moderation_subscriber_failures_total\{subscriber="thrower",kind="error"\} \d+/);
    expect(all).toMatch(/moderation_subscriber_failures_total\{subscriber="slow",kind="timeout"\} \d+/);
  });
});
