import { decodeChatEvent, directRoomId, type ModerationCheckRequest, type Result } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { register, startRooms } from '../testing/rooms-fixture';

const code = (r: Result<unknown>) => (r.ok ? 'OK' : r.error.code);

// A first private message that moderation holds opens the conversation silently (reason
// `held`: only the sender is told), so that the moderator's approval (rooms.post as the sender
// with heldReportId, see apps/moderation/src/reports/reports.ops.ts resolve) can post it there.
describe('a held first private message', () => {
  const namespace = randomName();
  let svc: RunningService;
  let moderation: Subscription;
  const REPORT_ID = '7a1d7d3e-3c0b-4d39-9a53-2f1f0d0f6a11';

  beforeAll(async () => {
    svc = await startRooms(namespace);
    moderation = svc.nc.subscribe(svc.deps.subjects.rpc('moderation.check'), {
      queue: 'moderation',
      callback: (_err, msg) => {
        const req = decodeJson(msg.data) as ModerationCheckRequest;
        // Moderation as it answers: the approval is allowed, a link held, anything else blocked.
        const verdict =
          req.heldReportId === REPORT_ID
            ? { verdict: 'allow', body: req.body }
            : req.body.includes('http')
              ? { verdict: 'hold', rule: 'links', reason: 'a link waits for a moderator', reportId: REPORT_ID }
              : { verdict: 'reject', code: 'CONTENT_BLOCKED', reason: 'blocked', rule: 'words', retryAfterMs: null };
        msg.respond(encodeJson({ ok: true, data: verdict }));
      },
    });
  });
  afterAll(async () => {
    moderation?.unsubscribe();
    await svc?.close();
    await deleteNamespace(namespace);
  });

  it('opens the conversation once with reason held (a retried send too); a refused one opens nothing', async () => {
    const [ann, bob, cid] = await Promise.all(['hann', 'hbob', 'hcid'].map((n) => register(svc, n)));
    const send = (to: string, clientMsgId: string, body: string) =>
      svc.deps.rpc.call('rooms.directSend', { actorId: ann.userId, actorName: ann.username, username: to, clientMsgId, body });
    expect(code(await send(bob.username, 'h1', 'see https://held.example'))).toBe('HELD_FOR_REVIEW');
    expect(code(await send(bob.username, 'h1', 'see https://held.example'))).toBe('HELD_FOR_REVIEW');
    const roomId = directRoomId(ann.userId, bob.userId);
    const s = svc.deps.subjects;
    const first = await svc.deps.js.nextOnSubject(s.streams.chat.name, s.chat.roomMeta(roomId), 1);
    const decoded = decodeChatEvent(first?.data);
    expect(decoded.ok && decoded.event).toMatchObject({ type: 'ConversationOpened', payload: { openedById: ann.userId, reason: 'held' } });
    expect(await svc.deps.js.nextOnSubject(s.streams.chat.name, s.chat.roomMeta(roomId), first!.seq + 1)).toBeNull();

    expect(code(await send(cid.username, 'c1', 'a blocked word'))).toBe('CONTENT_BLOCKED');
    expect(await svc.deps.js.lastOnSubject(s.streams.chat.name, s.chat.roomMeta(directRoomId(ann.userId, cid.userId)))).toBeNull();
  });

  it('the approval posts the held first message in the conversation', async () => {
    const ann = await register(svc, 'heldann');
    const bob = await register(svc, 'heldbob');
    const rpc = svc.deps.rpc;
    const body = 'see https://review.example';
    const sent = await rpc.call('rooms.directSend', {
      actorId: ann.userId,
      actorName: ann.username,
      username: bob.username,
      clientMsgId: 'h1',
      body,
    });
    expect(code(sent)).toBe('HELD_FOR_REVIEW');
    // The moderator approves: the moderation service posts it as ann with the report's id.
    const approved = await rpc.call('rooms.post', {
      userId: ann.userId,
      username: ann.username,
      roomId: directRoomId(ann.userId, bob.userId),
      clientMsgId: 'h1',
      body,
      heldReportId: REPORT_ID,
    });
    expect(code(approved)).toBe('OK');
  });
});
