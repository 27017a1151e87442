import { decodeModerationEvent, ok, type ModerationEvent, type Subjects } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { posted, registered } from './testing/events';
import { startModerationWith } from './testing/service';

/**
 * The registered subscribers in a whole moderation service (its real sanctions, strikes and
 * reports): their verdicts are read back from the moderation stream. The rooms service's
 * `rooms.moderatorDelete` is answered by the test on the real subject.
 */
describe('moderation subscribers - the registered ones on real NATS', () => {
  const namespace = randomName();
  const stored: ModerationEvent[] = [];
  let stopFollowing: () => Promise<void> = async () => undefined;
  const deletes: Array<{ messageId: string; rule: string }> = [];
  let svc: RunningService;
  let rooms: Subscription;
  let s: Subjects;

  async function post(sender: { userId: string; username: string }, body: string, roomId = 'general'): Promise<string> {
    const event = posted({ senderId: sender.userId, senderName: sender.username, body, roomId });
    await svc.deps.js.append(s.chat.roomMessages(roomId), event, { msgId: event.payload.messageId });
    return event.payload.messageId;
  }

  beforeAll(async () => {
    svc = await startModerationWith(namespace, 'registered', {
      env: { MOD_LINK_SPAM_LINKS: '3', MOD_LINK_SPAM_ROOMS: '2', MOD_NEW_ACCOUNT_MESSAGES: '3', MOD_NEW_ACCOUNT_MUTE_S: '120' },
    });
    s = svc.deps.subjects;
    const following = await svc.deps.js.follow(s.streams.moderation.name, s.moderation.all, (m) => {
      const d = decodeModerationEvent(m.data);
      if (d.ok) stored.push(d.event);
    });
    stopFollowing = following.stop;
    rooms = svc.nc.subscribe(s.rpc('rooms.moderatorDelete'), {
      queue: 'rooms',
      callback: (_err, msg) => {
        const req = decodeJson(msg.data) as { roomId: string; messageId: string; rule: string };
        deletes.push({ messageId: req.messageId, rule: req.rule });
        msg.respond(encodeJson(ok({ roomId: req.roomId, position: 1, messageId: req.messageId })));
      },
    });
  });

  afterAll(async () => {
    await stopFollowing();
    rooms?.unsubscribe();
    await svc?.close();
    await deleteNamespace(namespace);
  });

  it('link-spam redacts the message with the third link, reports it and strikes its author', async () => {
    const bob = { userId: randomUUID(), username: 'bob' };
    await post(bob, 'see a.com');
    await post(bob, 'and https://b.net/x');
    const third = await post(bob, '还有 ｃ．ｃｏｍ');
    await eventually(() => deletes.find((d) => d.messageId === third));
    expect(deletes.filter((d) => d.rule === 'link-spam')).toEqual([{ messageId: third, rule: 'link-spam' }]);
    const redacted = await eventually(() => stored.find((e) => e.type === 'MessageRedacted' && e.payload.messageId === third));
    expect(redacted.payload).toMatchObject({ roomId: 'general', userId: bob.userId, rule: 'link-spam' });
    const report = await eventually(() => stored.find((e) => e.type === 'ReportFiled' && e.payload.targetUserId === bob.userId));
    expect(report.payload).toMatchObject({ kind: 'rule', messageId: third, rule: 'link-spam', excerpt: '还有 ｃ．ｃｏｍ', byUserId: null });
    const strike = await eventually(() => stored.find((e) => e.type === 'StrikeRecorded' && e.payload.userId === bob.userId));
    expect(strike.payload).toMatchObject({ kind: 'rule', rule: 'link-spam', count: 1 });
  });

  it('new-account-flood mutes a just-registered account (age from its UserRegistered) and leaves an old one alone', async () => {
    const newbie = { userId: randomUUID(), username: 'newbie' };
    const veteran = { userId: randomUUID(), username: 'veteran' };
    await svc.deps.js.append(s.accounts.events(newbie.userId), registered(newbie), { msgId: newbie.userId });
    await svc.deps.js.append(s.accounts.events(veteran.userId), registered(veteran, new Date(Date.now() - 7 * 86_400_000)), {
      msgId: veteran.userId,
    });
    for (let i = 0; i < 5; i++) await post(veteran, `old timer ${i}`);
    for (let i = 0; i < 4; i++) await post(newbie, `hello ${i}`);
    const muted = await eventually(() => stored.find((e) => e.type === 'UserMuted'));
    expect(muted.payload).toMatchObject({
      userId: newbie.userId,
      username: 'newbie',
      roomId: null,
      reason: 'new account flood: 4 messages within 60 s',
      rule: 'new-account-flood',
      byUserId: null,
    });
    // Two minutes (MOD_NEW_ACCOUNT_MUTE_S) from when the service decided (its clock may tick between the two readings).
    const lasts = Date.parse(muted.type === 'UserMuted' ? muted.payload.until : '') - Date.parse(muted.time);
    expect(Math.round(lasts / 1000)).toBe(120);
    // The veteran's messages were stored before the newbie's and handled in order: no mute for them.
    expect(stored.filter((e) => e.type === 'UserMuted')).toHaveLength(1);
  });
});
